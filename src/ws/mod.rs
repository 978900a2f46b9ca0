//! The WebSocket vocabulary every layer shares, and the frame observer that reads it off a
//! byte stream: the two ways of a link ([`Way`]), the directions a fault acts in
//! ([`Direction`]), frame kinds ([`FrameKind`]), and in [`observer`] the pure, passive reader of
//! the HTTP upgrade and RFC 6455 frames (its [`Frame`], [`Head`] and [`Stop`] are what frame
//! faults decide on and what the proxy's events report).
//!
//! Pure: no I/O, no clock. Faults, the proxy and the recorder import it; it imports nothing of
//! theirs.

pub mod observer;

pub use observer::{
    EXTENSIONS_HEADER, Extensions, Frame, FrameEnd, HEAD_LIMIT_BYTES, Head, LinkObserver, MAX_HEADER_BYTES,
    Part, Standing, Stop, Token,
};

/// One of a link's two byte flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Way {
    /// Client to server.
    Upstream,
    /// Server to client.
    Downstream,
}

impl Way {
    /// Both ways, upstream first.
    pub const BOTH: [Way; 2] = [Way::Upstream, Way::Downstream];

    /// Whether a fault configured for `direction` acts on this way.
    pub fn is_in(self, direction: Direction) -> bool {
        matches!(
            (direction, self),
            (Direction::Both, _)
                | (Direction::Upstream, Way::Upstream)
                | (Direction::Downstream, Way::Downstream)
        )
    }

    /// The opposite way.
    pub fn other(self) -> Way {
        match self {
            Way::Upstream => Way::Downstream,
            Way::Downstream => Way::Upstream,
        }
    }

    /// The way's name in events and logs.
    pub fn name(self) -> &'static str {
        match self {
            Way::Upstream => "upstream",
            Way::Downstream => "downstream",
        }
    }
}

/// Which way bytes flow through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    Upstream,
    /// Server to client.
    Downstream,
    /// Both.
    Both,
}

/// A WebSocket frame type, for frame faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FrameKind {
    /// Ping.
    Ping,
    /// Pong.
    Pong,
    /// Text data.
    Text,
    /// Binary data.
    Binary,
    /// Close.
    Close,
}

impl FrameKind {
    /// The kind's name as the scenario writes it.
    pub fn name(self) -> &'static str {
        match self {
            FrameKind::Ping => "ping",
            FrameKind::Pong => "pong",
            FrameKind::Text => "text",
            FrameKind::Binary => "binary",
            FrameKind::Close => "close",
        }
    }
}
