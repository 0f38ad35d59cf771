/* names.c - user names and ids (see names.h). */
#include "base/names.h"

#include <string.h>

int
claim_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > NAME_LEN_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

int
name_valid(const char *s, size_t len)
{
	size_t i;

	if (!claim_name_valid(s, len))
		return 0;
	/* "." and ".." would be path segments in a URL (/keys/..). */
	for (i = 0; i < len && s[i] == '.'; i++)
		;
	return i < len;
}

int
id_valid(const char *s)
{
	static const char digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	size_t i;

	for (i = 0; i < ID_LEN; i++)
		if (s[i] == '\0' || strchr(digits, s[i]) == NULL)
			return 0;
	return s[i] == '\0';
}

int
name_valid_new(const char *s, size_t len)
{
	return name_valid(s, len) && s[0] != '-' && s[0] != '.';
}

void
name_skeleton(const char *s, size_t len, char out[NAME_LEN_MAX + 1])
{
	char folded[NAME_LEN_MAX + 1] = { 0 }, c;
	size_t i, n = 0, o = 0;

	if (len > NAME_LEN_MAX)
		len = NAME_LEN_MAX;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.' || c == '_' || c == '-')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		/* One letter each: what a reader cannot tell apart. */
		if (c == 'i' || c == '1' || c == '|')
			c = 'l';
		else if (c == '0')
			c = 'o';
		folded[n++] = c;
	}
	for (i = 0; i < n; i++) {
		if (i + 1 < n && folded[i] == 'r' && folded[i + 1] == 'n') {
			out[o++] = 'm';
			i++;
		} else if (i + 1 < n && folded[i] == 'v' &&
		    folded[i + 1] == 'v') {
			out[o++] = 'w';
			i++;
		} else {
			out[o++] = folded[i];
		}
	}
	out[o] = '\0';
}
