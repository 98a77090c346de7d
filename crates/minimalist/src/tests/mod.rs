//! Tests that span several modules: the fast reduced path against the plain oracle and dense
//! linear algebra, the training dynamics against the theory, and real CIFAR-10 checks.

mod exact;
mod real_data;
pub(crate) mod support;
mod theory_checks;
mod training;
