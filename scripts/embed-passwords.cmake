# Turns data/common-passwords.txt.gz into a C++ source holding the list as one
# string literal. Run by CMake at build time: cmake -DIN=... -DOUT=... -P this.
get_filename_component(outdir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${outdir})
execute_process(COMMAND gzip -dc ${IN} OUTPUT_VARIABLE text RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot decompress ${IN}")
endif()
# Split into chunks: compilers cap the length of one literal piece.
string(LENGTH "${text}" len)
set(body "")
set(pos 0)
while(pos LESS len)
  string(SUBSTRING "${text}" ${pos} 8000 piece)
  string(APPEND body "R\"cpa(${piece})cpa\"\n")
  math(EXPR pos "${pos} + 8000")
endwhile()
file(WRITE ${OUT} "// Generated from data/common-passwords.txt.gz; do not edit.\n#include <string_view>\nnamespace cpa::auth {\nextern const std::string_view kCommonPasswordsText;\nconst std::string_view kCommonPasswordsText =\n${body};\n}\n")
