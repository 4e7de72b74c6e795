// A main() for fuzz targets in builds without libFuzzer (g++, the CI suite): runs every file
// of the corpus folders given on the command line, then a fixed number of deterministic random
// mutations of them, so the targets' invariants are checked under ASan/UBSan on every run.
// scripts/fuzz builds the same targets with clang's libFuzzer for coverage-guided runs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void RunOne(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string Mutate(std::string input, std::mt19937& random) {
  std::uniform_int_distribution<int> byte(0, 255);
  const int edits = 1 + static_cast<int>(random() % 8);
  for (int i = 0; i < edits; ++i) {
    const std::size_t at = input.empty() ? 0 : random() % (input.size() + 1);
    switch (random() % 4) {
      case 0: input.insert(at, 1, static_cast<char>(byte(random)));
        break;
      case 1:
        if (at < input.size()) input.erase(at, 1 + random() % 4);
        break;
      case 2:
        if (at < input.size()) input[at] = static_cast<char>(byte(random));
        break;
      default: {  // splice in an interesting token
        static const char* const kTokens[] = {"\r\n", "%", "%0", "\"", "\\u0000", "@", ":", "{", "}",
                                              "\xC3", "\xF4\x90\x80\x80", "=?", "[", "]", "null"};
        input.insert(at, kTokens[random() % std::size(kTokens)]);
      }
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(argv[i], error)) {
      std::ifstream file(entry.path(), std::ios::binary);
      corpus.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
  }
  if (corpus.empty()) corpus.emplace_back();
  for (const auto& input : corpus) RunOne(input);
  const char* iterations_text = std::getenv("INKWELL_FUZZ_ITERATIONS");
  const long iterations = iterations_text != nullptr ? std::atol(iterations_text) : 20000;
  std::mt19937 random(12345);  // fixed: the same inputs on every run, so a failure repeats
  for (long i = 0; i < iterations; ++i) RunOne(Mutate(corpus[random() % corpus.size()], random));
  std::cout << "ran " << corpus.size() << " corpus inputs and " << iterations << " mutations\n";
  return 0;
}
