/* Runs every packet-level TCP script under tests/tcp/scripts (or $IPS_TCP_SCRIPTS):
 * one case per file, "N passed, N failed" like the other test binaries. An argument
 * selects the scripts whose path contains it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tcp/harness.c"

static char **paths;
static size_t npaths, cap;

static void collect(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[1024];
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			collect(p);
		} else if (strlen(e->d_name) > 4 && !strcmp(e->d_name + strlen(e->d_name) - 4, ".pkt")) {
			if (npaths == cap) {
				cap = cap ? cap * 2 : 256;
				paths = realloc(paths, cap * sizeof(*paths));
			}
			paths[npaths++] = strdup(p);
		}
	}
	closedir(d);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("IPS_TCP_SCRIPTS") ? getenv("IPS_TCP_SCRIPTS") : "tests/tcp/scripts";
	int passed = 0, failed = 0;

	collect(dir);
	qsort(paths, npaths, sizeof(*paths), cmp);
	for (size_t i = 0; i < npaths; i++) {
		if (argc > 1 && !strstr(paths[i], argv[1]))
			continue;
		if (tcp_script_run_file(paths[i], stderr) == 0) {
			passed++;
			if (getenv("TEST_VERBOSE"))
				fprintf(stderr, "ok   %s\n", paths[i]);
		} else {
			failed++;
			fprintf(stderr, "FAIL %s\n", paths[i]);
		}
		free(paths[i]);
	}
	free(paths);
	printf("%s: %d passed, %d failed\n", argv[0], passed, failed);
	return failed ? 1 : 0;
}
