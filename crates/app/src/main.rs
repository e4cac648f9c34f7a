fn main() {
    cipherstage_app::start();
}
