//! divtune: offline tuning, calibration and acceptance gate for a
//! price/order-flow divergence detector. See `divtune --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    divtune::cli::main()
}
