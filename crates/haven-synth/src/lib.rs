//! placeholder
pub mod rng; pub mod geography; pub mod clinical;
