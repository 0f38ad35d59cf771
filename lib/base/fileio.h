/*
 * fileio.h - every file the tools read or write goes through here.
 *
 * "-" (or NULL) means stdin or stdout. Inputs are capped in size and
 * directories are refused. Outputs to files are written to a temporary
 * file in the target's folder, created with O_EXCL|O_NOFOLLOW and the
 * final mode, and renamed into place only by outfile_commit(), so a
 * failed run never leaves a partial or half-written file behind. Devices
 * and the user's own FIFOs, when the caller allows them, are written in
 * place (see outfile_open).
 */
#ifndef E2E_FILEIO_H
#define E2E_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

/* Default cap on a single input (envelope or plaintext), and the most
 * --max-size may raise it to (OpenSSL's cipher calls take int lengths). */
#define FILEIO_DEFAULT_MAX ((size_t)256 << 20)
#define FILEIO_MAX_MAX ((size_t)1 << 30)

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

/* Warns when a secret file (what: "private key file") can be read by
 * group or others. */
void file_warn_if_exposed(const char *path, const char *what);

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

/*
 * Opens an output: stdout for "-", NULL or "/dev/stdout"; otherwise a
 * temporary file beside path with the given mode (0600 exactly; other
 * modes less the umask). With allow_devices, an existing character device
 * (/dev/null) or a FIFO of the user's own is written to in place instead.
 * Returns 0 or an exit code (reported); on failure call outfile_abort().
 */
int outfile_open(struct outfile *o, const char *path, mode_t mode,
    int allow_devices);
/* Returns 1 when the output is a terminal (checked on the descriptor,
 * whatever its name: -o /dev/tty too). */
int outfile_is_terminal(const struct outfile *o);
/* Buffered write. Returns 0 or 74 (reported). */
int outfile_write(struct outfile *o, const void *p, size_t n);
int outfile_puts(struct outfile *o, const char *s);
/*
 * Flushes, syncs and moves the file into place. With noclobber > 0 an
 * existing target is an error (73) and is left as it was; with 0 it is
 * replaced unless it holds a PEM private key (73); with < 0 (--force) it
 * is replaced. Returns 0 or
 * an exit code (73, 74), reported; the temporary file is removed on
 * failure. Closes the outfile either way.
 */
int outfile_commit(struct outfile *o, int noclobber);
/* Discards the output: removes the temporary file. Safe to repeat. */
void outfile_abort(struct outfile *o);

/* A sink that writes to o. */
struct sink sink_outfile(struct outfile *o);

/* Installs handlers so that SIGINT, SIGTERM and SIGHUP remove the
 * temporary file of an output being written (cli_start calls it). */
void fileio_on_signal(void);

/* Writes data to a file at path (mode, atomically; noclobber as for
 * outfile_commit). */
int file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int noclobber);

#endif
