fn main() -> std::process::ExitCode {
    kafkasim::cli::main()
}
