# Turns a text file into a C++ source defining one std::string_view:
#   cmake -DIN=file -DOUT=file.cc -DNAMESPACE=cpa::store -DSYMBOL=kSchemaSql -P embed-text.cmake
# Run by CMake at build time, so that the binary needs no data files beside it.
get_filename_component(outdir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${outdir})
file(READ ${IN} text)
string(FIND "${text}" ")cpa\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )cpa\"")
endif()
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace ${NAMESPACE} {\nextern const std::string_view ${SYMBOL};\nconst std::string_view ${SYMBOL} = R\"cpa(${text})cpa\";\n}\n")
