//! What a role core asks of the world: messages to send and events to record. The madsim shell
//! carries them out; tests read them directly.

use crate::history::EventKind;
use crate::protocol::message::Message;
use crate::protocol::NodeId;

/// The effects of one step of a role core (stateright's `Out`).
#[derive(Debug, Default)]
pub struct Effects {
    pub sends: Vec<(NodeId, Message)>,
    pub events: Vec<EventKind>,
}

impl Effects {
    pub fn send(&mut self, to: NodeId, message: Message) {
        self.sends.push((to, message));
    }

    pub fn event(&mut self, kind: EventKind) {
        self.events.push(kind);
    }
}
