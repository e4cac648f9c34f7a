//! Names (RFC 5280 §4.1.2.4): RDNs and their attributes; general names (§4.2.1.6).

use super::*;

/// A Name: SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue).
pub(crate) fn name(b: &mut FieldsBuilder, el: El, label: Label, p: Protection) {
    con(b, el, 0x30, label, p, |b, it| {
        while let Some(rdn) = it.next() {
            con(
                b,
                rdn,
                0x31,
                ("pki.field.rdn", "pki.explain.rdn"),
                p,
                |b, it| {
                    while let Some(atv) = it.next() {
                        let l = ("pki.field.attribute", "pki.explain.attribute");
                        con(b, atv, 0x30, l, p, |b, it| {
                            if let Some(e) = it.next() {
                                let l = ("pki.field.attribute_type", "pki.explain.attribute_type");
                                oid(b, e, l, p);
                            }
                            if let Some(e) = it.next() {
                                string(b, e, "pki.field.attribute_value", p);
                            }
                        });
                    }
                },
            );
        }
    });
    // The collapsed Name reads as its common name.
    if let Some(f) = b.last_mut() {
        if let Some(cn) = common_name_of(f) {
            f.value = Some(cn);
        }
    }
}

/// The value of the first commonName attribute under a Name field.
pub(crate) fn common_name_of(f: &Field) -> Option<Value> {
    let is_cn = |a: &Field| {
        a.children.iter().any(|c| {
            c.name == "pki.field.attribute_type"
                && c.value == Some(Value::Key("pki.oid.common_name".into()))
        })
    };
    f.children
        .iter()
        .flat_map(|rdn| rdn.children.iter())
        .filter(|a| a.name == "pki.field.attribute" && is_cn(a))
        .find_map(|a| {
            a.children
                .iter()
                .find(|c| c.name == "pki.field.attribute_value")
                .and_then(|c| c.value.clone())
        })
}

/// GeneralNames ::= SEQUENCE OF GeneralName (or IMPLICIT-tagged with `tag`).
pub(crate) fn general_names(b: &mut FieldsBuilder, el: El, tag: u8, label: Label, p: Protection) {
    let hdr = if tag == 0x30 {
        header_explain(tag)
    } else {
        "pki.explain.der_header_implicit"
    };
    con_hdr(b, el, tag, label, hdr, p, |b, it| {
        while let Some(e) = it.next() {
            general_name(b, e, p);
        }
    });
}

pub(crate) fn general_name(b: &mut FieldsBuilder, e: El, p: Protection) {
    let some_text = |c: &[u8]| Some(Some(text(c)));
    match e.tag {
        0x81 => prim(
            b,
            e,
            0x81,
            ("pki.field.email", "pki.explain.email"),
            p,
            some_text,
        ),
        0x82 => prim(
            b,
            e,
            0x82,
            ("pki.field.dns_name", "pki.explain.dns_name"),
            p,
            some_text,
        ),
        0x86 => prim(
            b,
            e,
            0x86,
            ("pki.field.uri", "pki.explain.uri"),
            p,
            some_text,
        ),
        0x87 => prim(
            b,
            e,
            0x87,
            ("pki.field.ip_address", "pki.explain.ip_address"),
            p,
            ip,
        ),
        0xa4 => {
            let l = ("pki.field.directory_name", "pki.explain.directory_name");
            con(b, e, 0xa4, l, p, |b, it| {
                if let Some(n) = it.next() {
                    name(b, n, ("pki.field.name", "pki.explain.name"), p);
                }
            });
        }
        _ => {
            let v = Some(Value::Text(tag_name(e.tag)));
            let (n, x) = ("pki.field.general_name", "pki.explain.general_name_other");
            b.leaf(n, e.len(), v, x, p);
        }
    }
}
