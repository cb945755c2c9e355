fn main() {
    // Generates the parser from src/grammar.lalrpop into OUT_DIR.
    lalrpop::process_src().expect("lalrpop failed to generate the Lua grammar");
}
