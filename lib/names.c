/* names.c - user names and ids (see names.h). */
#include "names.h"

#include <string.h>

int
name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > NAME_LEN_MAX)
		return 0;
	/* "." and ".." would be path segments in a URL (/keys/..). */
	for (i = 0; i < len && s[i] == '.'; i++)
		;
	if (i == len)
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
id_valid(const char *s)
{
	static const char digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	size_t i;

	for (i = 0; i < ID_LEN; i++)
		if (s[i] == '\0' || strchr(digits, s[i]) == NULL)
			return 0;
	return s[i] == '\0';
}
