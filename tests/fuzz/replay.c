/*
 * replay.c - runs a fuzz target over every file of the folders given as
 * arguments (the committed corpus and past crashes), so `make check`
 * replays them without libFuzzer. Prints "N passed, N failed": a crash
 * is not survivable, so reaching the end means every input passed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long n;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	data = malloc((size_t)n + 1);
	if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)n);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *e;
	int i, passed = 0, failed = 0;
	DIR *d;

#ifdef CORPUS
	/* Without arguments, the target's committed corpus. */
	static char *deflt[] = { NULL, CORPUS };

	if (argc < 2) {
		argc = 2;
		argv = deflt;
	}
#endif
	for (i = 1; i < argc; i++) {
		if ((d = opendir(argv[i])) == NULL) {
			fprintf(stderr, "cannot open corpus %s\n", argv[i]);
			failed++;
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (run_file(path) == 0)
				passed++;
			else
				failed++;
		}
		closedir(d);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
