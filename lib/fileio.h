/*
 * fileio.h - every file the tools read or write goes through here.
 *
 * "-" (or NULL) means stdin or stdout. Inputs are capped in size and
 * directories are refused. Outputs are written to a temporary file in
 * the target's folder, created with O_EXCL|O_NOFOLLOW and the final
 * mode, and renamed into place only by outfile_commit(), so a failed
 * run never leaves a partial or half-written file behind.
 */
#ifndef E2E_FILEIO_H
#define E2E_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Default cap on a single input (envelope or plaintext). */
#define FILEIO_DEFAULT_MAX ((size_t)256 << 20)

/*
 * Reads the whole of path (stdin for "-" or NULL) into out, refusing
 * more than max bytes. what names the input in messages ("key file").
 * Returns 0 or an exit code (66 cannot open or read, 65 too large),
 * with the error reported.
 */
int file_read(const char *path, size_t max, const char *what,
    struct buf *out);

/*
 * A read-only view of a whole input: a regular file of at least
 * FILEIO_MAP_MIN bytes is mapped (its pages come from the page cache,
 * with no copy and no fresh memory to clear), anything else is read into
 * b. Only for data that is not secret in memory beyond the file itself
 * (the plaintext being encrypted is the user's own file). Same limits and
 * exit codes as file_read. A mapped file that another process truncates
 * meanwhile makes later reads fault (SIGBUS): the price of not copying,
 * paid only by a user who edits a file while encrypting it.
 */
#define FILEIO_MAP_MIN ((size_t)1 << 20)
struct input_view {
	const uint8_t *p;
	size_t len;
	void *map;		/* the mapping, or NULL */
	size_t map_len;
	struct buf b;		/* or the data, read */
};
int file_view(const char *path, size_t max, const char *what,
    struct input_view *v);
void file_view_free(struct input_view *v);

/* Warns when a private key file can be read by group or others. */
void file_warn_if_exposed(const char *path);

/* Returns 1 when path names stdin/stdout ("-" or NULL). */
int file_is_std(const char *path);

/* Returns 0 when path does not exist (or force), else reports and
 * returns 73. Used before slow prompts; outfile_commit checks again. */
int file_check_new(const char *path, int force);

struct outfile {
	int fd;
	int direct;		/* stdout or a device: no temporary file */
	char *path;
	char *tmp;
	unsigned char *wbuf;
	size_t wlen;
};

#define OUTFILE_INIT { -1, 0, NULL, NULL, NULL, 0 }

/* Opens an output: stdout for "-" or NULL, otherwise a temporary file
 * beside path with the given mode. Returns 0 or 73 (reported). */
int outfile_open(struct outfile *o, const char *path, mode_t mode);
/* Buffered write. Returns 0 or 74 (reported). */
int outfile_write(struct outfile *o, const void *p, size_t n);
int outfile_puts(struct outfile *o, const char *s);
/*
 * Flushes, syncs and moves the file into place. With noclobber an
 * existing target is an error (73) and is left as it was. Returns 0 or
 * an exit code (73, 74), reported; the temporary file is removed on
 * failure. Closes the outfile either way.
 */
int outfile_commit(struct outfile *o, int noclobber);
/* Discards the output: removes the temporary file. Safe to repeat. */
void outfile_abort(struct outfile *o);

/* A sink that writes to o. */
struct sink sink_outfile(struct outfile *o);

/* Writes data to a new file at path (mode, atomically, see above). */
int file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int noclobber);

#endif
