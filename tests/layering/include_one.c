/* One translation unit for every layering case (tests/layering/CMakeLists.txt): it includes
 * the header named by LAYERING_HEADER and nothing else, so whether it compiles depends only on
 * the include directories the case's target gets from the library it links. */
#include LAYERING_HEADER

int layering_probe(void);
int layering_probe(void)
{
	return 0;
}
