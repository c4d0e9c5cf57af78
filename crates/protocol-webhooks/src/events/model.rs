//! The shape shared by every resource model: a required `id`, optional
//! documented fields, and every other field kept as a JSON value.
//!
//! Deserialization is written out (through a macro) rather than derived with
//! `#[serde(flatten)]`, because flatten buffers the whole object before
//! dispatching and would make typed parsing slower than parsing into
//! `serde_json::Value`.

/// Defines a resource model struct with hand-written serde impls.
macro_rules! resource_model {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        #[non_exhaustive]
        pub struct $name {
            /// The object's unique identifier. Empty only for a nested object
            /// sent without one (the docs abbreviate group members that way).
            pub id: alloc::string::String,
            $( $(#[$field_meta])* pub $field: Option<$ty>, )*
            /// Fields this version does not model, as JSON values. Numbers
            /// and key order are as `serde_json` parses them; the exact
            /// bytes are in [`Event::raw_payload`](crate::events::Event::raw_payload).
            pub extra: serde_json::Map<alloc::string::String, serde_json::Value>,
        }

        impl $name {
            /// An object with this id and no other field set.
            #[must_use]
            pub fn new(id: impl Into<alloc::string::String>) -> Self {
                Self { id: id.into(), ..Self::default() }
            }
        }

        const _: () = {
            use alloc::string::String;
            use core::fmt;
            use serde::de::{self, MapAccess, Visitor};
            use serde::ser::SerializeMap;

            #[allow(non_camel_case_types)]
            enum Field {
                id,
                $( $field, )*
                Other(String),
            }

            impl<'de> serde::Deserialize<'de> for Field {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    struct FieldVisitor;
                    impl Visitor<'_> for FieldVisitor {
                        type Value = Field;
                        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                            f.write_str("a field name")
                        }
                        fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                            Ok(match name {
                                "id" => Field::id,
                                $( stringify!($field) => Field::$field, )*
                                other => Field::Other(String::from(other)),
                            })
                        }
                    }
                    deserializer.deserialize_identifier(FieldVisitor)
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    struct ModelVisitor;
                    impl<'de> Visitor<'de> for ModelVisitor {
                        type Value = $name;
                        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                            f.write_str(concat!("a ", stringify!($name), " object"))
                        }
                        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                            let mut model = $name::default();
                            let mut seen_id = false;
                            $( let mut $field = false; )*
                            while let Some(key) = map.next_key::<Field>()? {
                                match key {
                                    Field::id => {
                                        if seen_id {
                                            return Err(de::Error::duplicate_field("id"));
                                        }
                                        seen_id = true;
                                        model.id = map.next_value()?;
                                    }
                                    $(
                                        Field::$field => {
                                            if $field {
                                                return Err(de::Error::duplicate_field(stringify!($field)));
                                            }
                                            $field = true;
                                            model.$field = map.next_value()?;
                                        }
                                    )*
                                    Field::Other(name) => {
                                        let value = map.next_value()?;
                                        if model.extra.insert(name, value).is_some() {
                                            return Err(de::Error::custom("duplicate field"));
                                        }
                                    }
                                }
                            }
                            Ok(model)
                        }
                    }
                    deserializer.deserialize_map(ModelVisitor)
                }
            }

            impl serde::Serialize for $name {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    let mut map = serializer.serialize_map(None)?;
                    // An empty id means the object arrived without one (the
                    // abbreviated group members); writing `"id": ""` would
                    // add a field that was never sent.
                    if !self.id.is_empty() {
                        map.serialize_entry("id", &self.id)?;
                    }
                    $(
                        if let Some(value) = &self.$field {
                            map.serialize_entry(stringify!($field), value)?;
                        }
                    )*
                    for (name, value) in &self.extra {
                        map.serialize_entry(name, value)?;
                    }
                    map.end()
                }
            }
        };
    };
}

pub(crate) use resource_model;
