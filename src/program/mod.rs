//! Programs under test: the user's own clients and servers, run as child processes. wschaos
//! launches them ([`process`]), keeps their output ([`output`]), reads the events a client may report on its stdout
//! ([`protocol`], docs/client-protocol.md) and turns them into the reference client's event
//! kinds ([`translate`]), so the recorder judges both kinds of client alike.

pub mod fleet;
pub mod output;
pub mod process;
pub mod protocol;
pub mod server;
pub mod translate;

pub use process::{Child, Launch, LaunchError, ProgramEnd, StopOutcome};
pub use protocol::{ProgramEvent, StdoutLine};
pub use translate::Translator;
