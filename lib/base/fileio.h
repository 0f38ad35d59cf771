/*
 * fileio.h - every file the tools read or write goes through here.
 *
 * "-" (or NULL) means stdin or stdout. Inputs are capped in size and
 * directories are refused. Outputs to files are written to a temporary
 * file in the target's folder, created with O_EXCL|O_NOFOLLOW and the
 * final mode, and renamed into place only by outfile_commit(), so a
 * failed run never leaves a partial or half-written file behind. Devices
 * and the user's own FIFOs, when the caller allows them, are written in
 * place (see outfile_open). The files of the client's home folder that
 * decide something (config, session, keyring) are read with
 * file_read_private, under a policy listed below, and the ones two
 * processes may change at once are guarded by file_lock.
 */
#ifndef E2E_FILEIO_H
#define E2E_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/report.h"

/* Default cap on a single input (envelope or plaintext), and the most
 * --max-size may raise it to (OpenSSL's cipher calls take int lengths). */
#define FILEIO_DEFAULT_MAX ((size_t)256 << 20)
#define FILEIO_MAX_MAX ((size_t)1 << 30)

/*
 * Reads the whole of path (stdin for "-" or NULL) into out, refusing
 * more than max bytes. what names the input in messages ("key file").
 * Returns 0 or an exit code (66 cannot open or read, 65 too large),
 * with the error in rep.
 */
int file_read(const char *path, size_t max, const char *what,
    struct buf *out, struct report *rep);

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
    struct input_view *v, struct report *rep);
void file_view_free(struct input_view *v);

/*
 * A large input read in pieces, never whole: e2e-encrypt's plaintext,
 * e2e-decrypt's envelope file. Same checks and exit codes as file_read
 * (a folder is refused; more than max bytes is 65, at open for a regular
 * file, while reading for a pipe). A regular file can also be read at an
 * offset (infile_pread), which does not move the sequential position.
 */
#define FILEIO_STREAM_MAX ((uint64_t)32 << 30)	/* a plaintext */
/* An envelope of the largest plaintext, signed: base64url twice. */
#define FILEIO_STREAM_ENVELOPE_MAX ((uint64_t)64 << 30)
struct infile {
	int fd;
	int is_std;
	int regular;
	uint64_t size;		/* a regular file's size at open */
	uint64_t done;		/* bytes read by infile_read */
	uint64_t max;
	const char *path, *what;
};
int infile_open(struct infile *in, const char *path, uint64_t max,
    const char *what, struct report *rep);
/* Reads up to cap bytes (fewer only at the end); *got 0 means the end. */
int infile_read(struct infile *in, void *p, size_t cap, size_t *got,
    struct report *rep);
/* Reads exactly n bytes at off of a regular file (66 when it shrank). */
int infile_pread(struct infile *in, void *p, size_t n, uint64_t off,
    struct report *rep);
void infile_close(struct infile *in);
/* A source (buf.h) reading in with infile_read. */
struct source infile_source(struct infile *in);

/* 1 when path is a regular file group or others can read ("-", the
 * standard input, has no mode to judge: 0). */
int file_exposed(const char *path);

/* Warns (in rep) when a secret file (what: "passphrase file") can be
 * read by group or others. */
void file_warn_if_exposed(const char *path, const char *what,
    struct report *rep);

/* Returns 1 when path names stdin/stdout ("-" or NULL). */
int file_is_std(const char *path);

/* Returns 0 when path does not exist (or force), else reports and
 * returns 73. Used before slow prompts; outfile_commit checks again. */
int file_check_new(const char *path, int force, struct report *rep);

struct outfile {
	int fd;
	int direct;		/* stdout or a device: no temporary file */
	char *path;
	char *tmp;
	unsigned char *wbuf;
	size_t wlen;
	struct report *sink_rep;	/* where sink_outfile's writes report */
	size_t unsynced;	/* written since the last write-back began */
};

#define OUTFILE_INIT { -1, 0, NULL, NULL, NULL, 0, NULL, 0 }

/*
 * Opens an output: stdout for "-", NULL or "/dev/stdout"; otherwise a
 * temporary file beside path with the given mode (0600 exactly; other
 * modes less the umask). With allow_devices, an existing character device
 * (/dev/null) or a FIFO of the user's own is written to in place instead.
 * Returns 0 or an exit code (in rep); on failure call outfile_abort().
 */
int outfile_open(struct outfile *o, const char *path, mode_t mode,
    int allow_devices, struct report *rep);
/* Returns 1 when the output is a terminal (checked on the descriptor,
 * whatever its name: -o /dev/tty too). */
int outfile_is_terminal(const struct outfile *o);
/* Buffered write. Returns 0 or 74 (in rep). */
int outfile_write(struct outfile *o, const void *p, size_t n,
    struct report *rep);
int outfile_puts(struct outfile *o, const char *s, struct report *rep);
/*
 * A temporary file's content, read and changed in place before it is
 * committed (not for a direct output): both flush what is buffered
 * first. Return 0 or 74 (in rep).
 */
int outfile_pread(struct outfile *o, void *p, size_t n, uint64_t off,
    struct report *rep);
int outfile_pwrite(struct outfile *o, const void *p, size_t n,
    uint64_t off, struct report *rep);
/* Cuts the temporary file to len bytes. Returns 0 or 74 (in rep). */
int outfile_truncate(struct outfile *o, uint64_t len, struct report *rep);
/* Empties the temporary file, the next write going to its start.
 * Returns 0 or 74 (in rep). */
int outfile_rewind(struct outfile *o, struct report *rep);
/*
 * Flushes, syncs and moves the file into place. With noclobber > 0 an
 * existing target is an error (73) and is left as it was; with 0 it is
 * replaced unless it holds a PEM private key (73); with < 0 (--force) it
 * is replaced. Returns 0 or
 * an exit code (73, 74), in rep; the temporary file is removed on
 * failure. Closes the outfile either way.
 */
int outfile_commit(struct outfile *o, int noclobber, struct report *rep);
/* Discards the output: removes the temporary file. Safe to repeat. */
void outfile_abort(struct outfile *o);

/* A sink that writes to o; its write errors go to rep. */
struct sink sink_outfile(struct outfile *o, struct report *rep);

/* Installs handlers so that SIGINT, SIGTERM and SIGHUP remove the
 * temporary file of an output being written (cli_start calls it). */
void fileio_on_signal(void);

/* Writes data to a file at path (mode, atomically; noclobber as for
 * outfile_commit). Returns 0 or an exit code (in rep). */
int file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int noclobber, struct report *rep);

/* ---- private files: read under a policy, and locked ---- */

/*
 * What file_read_private and file_lock found. They print nothing: each
 * caller says it in its own words, naming what the file is for (and
 * file_lock_report says it for the lock files).
 */
enum file_status {
	FILE_OK = 0,
	FILE_ABSENT,		/* no such file (ENOENT): the caller's "none" */
	FILE_SYMLINK,		/* a symbolic link, refused (errno ELOOP) */
	FILE_CANNOT_OPEN,	/* errno says why */
	FILE_NOT_REGULAR,	/* a folder, a FIFO, a device... */
	FILE_NOT_OWNER,		/* another user's */
	FILE_EXPOSED,		/* a mode bit the policy forbids */
	FILE_TOO_LARGE,		/* more than the policy's max bytes */
	FILE_CANNOT_READ,	/* errno says why */
	FILE_NO_MEMORY,
	FILE_BUSY,		/* file_lock without waiting: it is held */
	FILE_CANNOT_LOCK,	/* errno says why */
};

/*
 * How a private file is read: the mode bits that refuse it (022: group
 * and others may not change it; 077: nor read it), who may own it (the
 * user, or with FILE_ROOT_MAY_OWN root too), whether a symbolic link is
 * followed (FILE_FOLLOW; otherwise it is refused), and the most bytes
 * accepted.
 *
 * Every caller's policy, and why:
 *
 * | file (reader)                 | forbid | owner      | link    | max       |
 * |-------------------------------|--------|------------|---------|-----------|
 * | HOME/config (base/config)     | 022    | you, root  | follows | 65535 B   |
 * | HOME/session (net/session,    | 077    | you        | refused | 64 KiB    |
 * |   keys/myname)                |        |            |         |           |
 * | HOME/keyring.json             | 022    | you        | refused | 16 MiB    |
 * |   (keys/keyring)              |        |            |         |           |
 * | HOME/prekeys.json             | 077    | you        | refused | 8 MiB     |
 * |   (keys/prekeys)              |        |            |         |           |
 *
 * - The config names the server, the CA and the proxy to trust: nobody
 *   else may change it, but it holds no secret, so others may read it.
 *   An administrator may provide it: it may be root's, and a link to a
 *   shared file (the checks are made on the file reached).
 * - The session holds a token: readable by others is refused (it may
 *   have leaked), and so is a link (someone else's file passed off as
 *   ours, or ours read through a name another user controls).
 * - The keyring decides whose key a message is encrypted to: nobody else
 *   may change it; it holds public keys only, so it may be read.
 * - The prekeys are private keys: as the session, and larger (a few
 *   hundred prekeys per identity key, and the ids of erased ones).
 */
#define FILE_ROOT_MAY_OWN 1u
#define FILE_FOLLOW 2u

struct file_policy {
	mode_t forbid;
	unsigned flags;
	size_t max;
};

extern const struct file_policy file_policy_config;
extern const struct file_policy file_policy_session;
extern const struct file_policy file_policy_keyring;
extern const struct file_policy file_policy_prekeys;

/*
 * Reads the whole of the private file path into out (emptied first; its
 * secret flag is the caller's: a session is read into a secret buffer)
 * under policy pol. The file is opened with O_NOFOLLOW (unless the
 * policy follows links), O_NONBLOCK (a FIFO planted there is refused,
 * not waited on), O_NOCTTY and O_CLOEXEC, and every check is made with
 * fstat on the descriptor opened, which is also the one read: a file
 * swapped in after the check is never the one read, and one swapped
 * before it is the one checked. Checks, in this order: a regular file,
 * the owner, the mode, the size (also while reading: a file that grows
 * is still cut at max). On FILE_OK out holds the bytes, NUL-terminated
 * (not counted in len); otherwise out is emptied, and errno is kept for
 * FILE_CANNOT_OPEN and FILE_CANNOT_READ. Prints nothing; FILE_NO_MEMORY
 * is the caller's to report.
 */
enum file_status file_read_private(const char *path,
    const struct file_policy *pol, struct buf *out);

/*
 * The words a reader refuses its private file with, each after the
 * file's path and before "; not using it": refused for a file that is
 * not a regular file, and for one that is another user's or has a mode
 * the policy forbids unless not_owner or exposed (when not NULL) say
 * those. hint follows a refusal for the mode ("chmod 600 PATH, if it is
 * yours" when NULL).
 */
struct file_refusal {
	const char *refused;
	const char *not_owner;
	const char *exposed;
	const char *hint;
};

/*
 * file_read_private, and what it found said in rep, so that every reader
 * of a private file reports its failures alike: a link refused, one that
 * cannot be opened or read (errno's words), one too large, the refusals
 * in the caller's words (why). Returns 0 (FILE_OK), -1 when there is no
 * file (the caller's "none", nothing said), 70 when out of memory, or
 * code.
 */
int file_read_private_report(const char *path,
    const struct file_policy *pol, struct buf *out, int code,
    const struct file_refusal *why, struct report *rep);

/*
 * The one lock of the files two processes may change at once (the
 * keyring, the replay cache, e2e-recv's log). It is:
 *
 * - a separate lock file (HOME/NAME.lock), never the data file: the
 *   data file is replaced by rename, and a lock on a replaced file
 *   guards nothing. It is never removed either, for the same reason:
 *   removing it would let a newcomer lock a new file while the holder
 *   still holds the old one. Opened (created 0600) with O_NOFOLLOW: a
 *   link planted there is refused, never created through.
 * - flock(2), exclusive, held by the open descriptor: the kernel drops
 *   it when the holder closes it or dies in any way (kill -9, a crash),
 *   so there are no stale locks to detect, no process ids to check and
 *   no timeouts to guess, as there would be with O_EXCL lock files or
 *   pid files. Not fcntl(F_SETLK): a process loses those when it closes
 *   any descriptor of the file.
 * - waiting or not, as the caller says: the keyring and the replay cache
 *   wait (FILE_LOCK_WAIT: the holder reads, changes and rewrites a small
 *   file, and a second e2e-keys or e2e-decrypt should simply follow it);
 *   e2e-recv does not (FILE_LOCK_TRY: the holder may be a --follow that
 *   runs for days, and a second one of the same user is a mistake to
 *   report, exit 75).
 *
 * Returns FILE_OK with *fd the lock (release it with file_unlock),
 * FILE_BUSY (FILE_LOCK_TRY only), FILE_SYMLINK, FILE_CANNOT_OPEN or
 * FILE_CANNOT_LOCK (errno kept), with *fd -1. Prints nothing.
 */
#define FILE_LOCK_TRY 0
#define FILE_LOCK_WAIT 1
enum file_status file_lock(const char *path, int wait, int *fd);
/* Releases a lock file_lock took (*fd >= 0), and sets *fd to -1. */
void file_unlock(int *fd);
/* Puts in rep what file_lock found (not FILE_BUSY, whose words are the
 * caller's: who holds it). Returns 73. */
int file_lock_report(const char *path, enum file_status st,
    struct report *rep);

#ifdef E2E_TEST_HOOKS
/* Test builds only: fn runs in file_read_private after the file is
 * opened and before it is checked (where another process may swap it). */
void fileio_test_set_after_open(void (*fn)(const char *path));
#endif

#endif
