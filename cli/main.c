/* flowctl: placeholder entry point until the CLI work lands. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "flowctl: not built yet\n");
	return 1;
}
