#include "proc/title.h"

#include <errno.h>  // program_invocation_name (GNU)

#include <algorithm>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace cpa::proc {
namespace {

// Set once by init_process_title(), before any fork, and never moved after.
char* g_title_area = nullptr;
size_t g_title_room = 0;  // bytes from argv[0] to the end of the last contiguous string

// The end of `s` (past its NUL) when it starts exactly at `at`, else null.
char* end_if_at(char* s, char* at) { return s == at ? s + strlen(s) + 1 : nullptr; }

}  // namespace

char** g_environment_copies = nullptr;

void init_process_title(int argc, char** argv) {
  if (argc < 1 || argv[0] == nullptr) return;
  // The kernel lays out argv's strings and then environ's, back to back; the
  // room runs as far as they stay contiguous.
  char* end = argv[0] + strlen(argv[0]) + 1;
  for (int i = 1; i < argc; ++i) {
    char* next = end_if_at(argv[i], end);
    if (next == nullptr) break;
    end = next;
  }
  size_t count = 0;
  while (environ[count] != nullptr) ++count;
  // Copies of the environment strings that live as long as the process.
  char** moved = static_cast<char**>(calloc(count + 1, sizeof(char*)));
  if (moved == nullptr) return;  // no title then, but nothing lost
  bool contiguous = true;
  for (size_t i = 0; i < count; ++i) {
    if (contiguous) {
      char* next = end_if_at(environ[i], end);
      contiguous = next != nullptr;
      if (contiguous) end = next;
    }
    moved[i] = strdup(environ[i]);
    if (moved[i] == nullptr) return;  // environ untouched: still the originals
  }
  g_environment_copies = static_cast<char**>(calloc(count + 1, sizeof(char*)));
  if (g_environment_copies != nullptr) std::copy(moved, moved + count, g_environment_copies);
  environ = moved;
  // glibc's error messages name the program through these; they point into argv[0].
  if (char* name = strdup(program_invocation_name)) program_invocation_name = name;
  if (char* name = strdup(program_invocation_short_name)) program_invocation_short_name = name;
  g_title_area = argv[0];
  g_title_room = static_cast<size_t>(end - argv[0]);
}

void set_process_title(std::string_view title) {
  if (g_title_area == nullptr || g_title_room == 0) return;
  size_t n = std::min(title.size(), g_title_room - 1);
  memcpy(g_title_area, title.data(), n);
  // Zeroed to the end: /proc/<pid>/cmdline then shows the title alone.
  memset(g_title_area + n, 0, g_title_room - n);
}

}  // namespace cpa::proc
