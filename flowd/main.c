/* flowd: placeholder entry point until the datapath work lands. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "flowd: not built yet\n");
	return 1;
}
