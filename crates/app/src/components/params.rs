//! The scenario's parameters; a change re-runs the scenario live in WASM.

use cipherstage_scenarios::ParamKind;
use yew::prelude::*;

use crate::state::{Action, State};
use crate::t;

/// Props of [`Params`].
#[derive(Properties, PartialEq)]
pub struct ParamsProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// The parameter form.
#[component]
pub fn Params(p: &ParamsProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let Some(info) = s.scenario else {
        return html! {};
    };
    html! {
        <section class="params" id="params">
            <h2>{ t(lang, "ui.params") }</h2>
            { for info.params.iter().map(|spec| {
                let name = spec.name.to_owned();
                let h = p.state.clone();
                let value = s.param(spec.name);
                let label = t(lang, &spec.label_key());
                match spec.kind {
                    ParamKind::Choice(options) => {
                        let onchange = Callback::from(move |e: Event| {
                            if let Some(sel) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
                                h.dispatch(Action::SetParam(name.clone(), sel.value()));
                            }
                        });
                        html! {
                            <label>
                                <span>{ label }</span>
                                <select data-param={spec.name} onchange={onchange}>
                                    { for options.iter().map(|o| html! {
                                        <option value={*o} selected={value == *o}>{ t(lang, &format!("param.{}.{}", spec.name, o)) }</option>
                                    }) }
                                </select>
                            </label>
                        }
                    }
                    _ => {
                        let onchange = Callback::from(move |e: Event| {
                            if let Some(inp) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                                h.dispatch(Action::SetParam(name.clone(), inp.value()));
                            }
                        });
                        html! {
                            <label>
                                <span>{ label }</span>
                                <input type="text" data-param={spec.name} value={value}
                                    maxlength={cipherstage_scenarios::MAX_TEXT.to_string()} onchange={onchange} />
                            </label>
                        }
                    }
                }
            }) }
        </section>
    }
}
