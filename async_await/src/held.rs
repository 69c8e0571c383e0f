//! What a parked connection of this server is made of, for the chapter's
//! table (`bench::held` writes it): sizes from the types, nothing measured.
/// What a parked connection is made of, part by part (`bench::held`
/// writes the chapter's table from it): its task, boxed, and what the
/// executor and the reactor keep for it. The task is `serve_client`'s
/// state machine, laid out by the compiler: the protocol's `Connection`
/// in it is shown field by field, the rest (the socket, the other locals
/// live across an `.await`, the state's tag) as one part.
pub fn held_layout() -> Vec<protocol::layout::Part> {
    use protocol::layout::Part;
    use std::mem::size_of;

    /// The size of the future an `async fn` of three arguments returns,
    /// from the function alone (nothing is called).
    fn future_size<A, B, C, F>(_: fn(A, B, C) -> F) -> usize {
        size_of::<F>()
    }
    let task = future_size(crate::server::serve_client as fn(_, _, _) -> _);
    let conn = protocol::Connection::layout();
    let mut fields = conn.fields.clone();
    fields.push(Part::new(
        "(the rest: the socket, the other locals kept across an `.await`, the state's tag)",
        "",
        task - conn.bytes,
    ));
    let task = Part {
        name: "its task: `serve_client`'s state, boxed".to_string(),
        ty: "impl Future".to_string(),
        bytes: task,
        fields,
    };
    vec![
        task,
        Part::new(
            "its slot in the executor's task table",
            std::any::type_name::<Option<crate::executor::Task>>(),
            size_of::<Option<crate::executor::Task>>(),
        ),
        Part::new(
            "its socket's `Source`, in an `Rc` (with the `Rc`'s two counts)",
            "Source",
            crate::reactor::source_bytes(),
        ),
        Part::new(
            "its slot in the reactor's source table",
            std::any::type_name::<Option<std::rc::Rc<crate::reactor::Source>>>(),
            size_of::<Option<std::rc::Rc<crate::reactor::Source>>>(),
        ),
        Part::new(
            "its timer in the reactor's `BTreeMap` (the tree's nodes not counted)",
            "((Instant, u64), Waker)",
            size_of::<((std::time::Instant, u64), std::task::Waker)>(),
        ),
    ]
}
