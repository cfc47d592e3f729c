/* probe.c - prints mini-Atom's results (miniatom/jregex.h) for each row of a regex table
 * (tests/regex/cases.txt; format in run.sh), in the form JavaRegex.java prints java.util.regex's,
 * so that run.sh can compare them line by line. Refusals go to stderr as "id: message". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miniatom/miniatom.h"
#include "miniatom/jregex.h"

/* %n %r %t %% %u{HEX} in a table field */
static char *decode(const char *f)
{
    ma_sb b;
    ma_sb_init(&b);
    for (const char *p = f; *p; p++) {
        if (*p != '%' || !p[1]) {
            ma_sb_putc(&b, *p);
            continue;
        }
        p++;
        if (*p == 'n') ma_sb_putc(&b, '\n');
        else if (*p == 'r') ma_sb_putc(&b, '\r');
        else if (*p == 't') ma_sb_putc(&b, '\t');
        else if (*p == 'u' && p[1] == '{') {
            unsigned long cp = strtoul(p + 2, NULL, 16);
            char u[4];
            size_t n;
            if (cp < 0x80) u[0] = (char)cp, n = 1;
            else if (cp < 0x800) u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
            else if (cp < 0x10000)
                u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
                u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
            else
                u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
            ma_sb_append(&b, u, n);
            p = strchr(p, '}');
            if (!p) break;
        } else ma_sb_putc(&b, *p);
    }
    return ma_sb_take(&b, NULL);
}

/* printable ASCII as is; % | [ ] escaped; everything else %u{hex} */
static void put_escaped(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t l = ma_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!l) {
            printf("%%x{%02x}", (unsigned char)s[i]);
            i++;
            continue;
        }
        i += l;
        if (cp == '%' || cp == '|' || cp == '[' || cp == ']') printf("%%%c", (char)cp);
        else if (cp >= 0x20 && cp < 0x7f) putchar((int)cp);
        else printf("%%u{%x}", cp);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: probe cases.txt\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *fld[5] = {0};
        int nf = 0;
        for (char *p = line; nf < 5;) {
            fld[nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = '\0';
            p = tab + 1;
        }
        if (nf < 3) continue;
        const char *id = fld[0], *mode = fld[1];
        char *pat = decode(fld[2]), *in = decode(nf > 3 ? fld[3] : ""), *rep = decode(nf > 4 ? fld[4] : "");
        int whole = strcmp(mode, "matches") == 0;
        ma_error err;
        ma_error_clear(&err);
        ma_jregex *re = ma_jregex_compile(pat, whole ? MA_JREGEX_WHOLE : 0, &err);
        printf("%s\t", id);
        if (!re) {
            if (err.code == MA_ERR_UNSUPPORTED) {
                printf("refused");
                fprintf(stderr, "%s: %s\n", id, err.msg);
            } else {
                printf("error");
            }
        } else if (strcmp(mode, "refuse") == 0) {
            printf("accepted");
        } else if (whole) {
            int m = ma_jregex_match(re, in, strlen(in), &err);
            printf("%s", m < 0 ? "limit" : m ? "true" : "false");
        } else if (strcmp(mode, "replace") == 0) {
            ma_jregex_repl *r = ma_jregex_repl_compile(re, rep, &err);
            ma_sb out;
            ma_sb_init(&out);
            if (!r) printf("replacement-error");
            else if (ma_jregex_replace(re, r, in, strlen(in), &out, (size_t)1 << 30, &err) < 0) printf("limit");
            else put_escaped(out.s ? out.s : "", out.len);
            ma_sb_free(&out);
            ma_jregex_repl_free(r);
        } else { /* find: every match with its groups, as repeated Matcher.find() gives them */
            int ng = ma_jregex_groups(re) + 1, n = 0, m = 0;
            size_t *ov = calloc((size_t)ng * 2, sizeof *ov), pos = 0, len = strlen(in);
            while (pos <= len && n < 50 && (m = ma_jregex_find(re, in, len, pos, ov, ng, &err)) == 1) {
                printf("[");
                for (int g = 0; g < ng; g++) {
                    if (g) printf("|");
                    if (ov[2 * g] == (size_t)-1) printf("-");
                    else put_escaped(in + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
                }
                printf("]");
                n++;
                if (ov[1] > ov[0]) {
                    pos = ov[1];
                } else {
                    unsigned cp;
                    size_t l = ov[1] < len ? ma_utf8_decode((const unsigned char *)in + ov[1], len - ov[1], &cp) : 1;
                    pos = ov[1] + (l ? l : 1);
                }
            }
            if (m < 0) printf("limit");
            else if (!n) printf("none");
            free(ov);
        }
        printf("\n");
        ma_jregex_free(re);
        free(pat);
        free(in);
        free(rep);
    }
    fclose(f);
    return 0;
}
