//! The home page: the seed's layer map, every scenario reachable from its layer.

use cipherstage_scenarios as scenarios;
use cipherstage_transcript::Layer;
use yew::prelude::*;

use crate::state::{Action, State};
use crate::t;

/// Props of [`Picker`].
#[derive(Properties, PartialEq)]
pub struct PickerProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

fn layer_key(l: Layer) -> &'static str {
    match l {
        Layer::Application => "layer.application",
        Layer::Transport => "layer.transport",
        Layer::Network => "layer.network",
    }
}

/// The layer map.
#[component]
pub fn Picker(p: &PickerProps) -> Html {
    let lang = p.state.lang;
    let dispatch = p.state.dispatcher();
    let layers = [Layer::Application, Layer::Transport, Layer::Network];
    html! {
        <main class="picker" id="picker">
            <h1>{ t(lang, "ui.picker.title") }</h1>
            <p class="lead">{ t(lang, "ui.picker.lead") }</p>
            <div class="layers">
            { for layers.iter().map(|&layer| {
                let list: Vec<_> = scenarios::all().filter(|s| s.layer == layer).collect();
                let key = layer_key(layer);
                html! {
                    <section class={classes!("layer", key.replace('.', "-"))}>
                        <h2>{ t(lang, key) }</h2>
                        <p class="examples">{ t(lang, &format!("{key}.examples")) }</p>
                        if list.is_empty() {
                            <p class="empty">{ t(lang, "ui.picker.coming") }</p>
                        }
                        <ul>
                        { for list.into_iter().map(|s| {
                            let d = dispatch.clone();
                            let id = s.id;
                            let open = Callback::from(move |_| d.dispatch(Action::Open(id)));
                            html! {
                                <li>
                                    <button class="scenario-card" data-scenario={id} onclick={open}>
                                        <strong>{ t(lang, &s.title_key()) }</strong>
                                        <span>{ t(lang, &s.summary_key()) }</span>
                                    </button>
                                </li>
                            }
                        }) }
                        </ul>
                    </section>
                }
            }) }
            </div>
            <super::lesson::LessonList state={p.state.clone()} />
            <super::inspect::Inspect state={p.state.clone()} />
        </main>
    }
}
