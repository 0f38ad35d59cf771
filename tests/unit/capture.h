/*
 * capture.h - what a call under test writes on stderr: capture_begin()
 * sends stderr to a temporary file, capture_end() puts it back and
 * returns the text written, whole (also in capture_text, until the
 * next capture).
 */
#ifndef E2E_CAPTURE_H
#define E2E_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char capture_text[8192];
static FILE *capture_file;
static int capture_saved = -1;

static inline void
capture_begin(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	capture_saved = dup(STDERR_FILENO);
	if (capture_file == NULL || capture_saved < 0 ||
	    dup2(fileno(capture_file), STDERR_FILENO) < 0) {
		perror("capturing stderr");
		exit(2);
	}
}

static inline const char *
capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(capture_saved, STDERR_FILENO);
	close(capture_saved);
	capture_saved = -1;
	rewind(capture_file);
	n = fread(capture_text, 1, sizeof(capture_text) - 1, capture_file);
	capture_text[n] = '\0';
	fclose(capture_file);
	capture_file = NULL;
	return capture_text;
}

#endif
