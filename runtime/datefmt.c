/* datefmt.c - Java SimpleDateFormat masks compiled once, then used to format and parse instants
 * (datefmt.h; Boomi date parameters and map functions use these masks, boomi-atom-semantics.md 2
 * "Message"). Behaviour follows SimpleDateFormat in the en_US locale: English names, weeks start
 * on Sunday and week 1 holds January 1, lenient parsing (day 30 of February rolls over, trailing
 * text is ignored), proleptic Gregorian calendar (Java switches to Julian before 1582-10-15). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* gmtime_r, strncasecmp */
#endif
#include "datefmt.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* letter == 0: literal text lit[off .. off+len). Otherwise a pattern field repeated count times. */
typedef struct df_item {
    char letter;
    int count;
    size_t off, len;
} df_item;

struct ma_datefmt {
    char *mask; /* owned copy, for error messages */
    char *lit;  /* owned: all literal text */
    df_item *items;
    size_t n;
};

static const char *const month_long[12] = {"January", "February", "March",     "April",   "May",      "June",
                                           "July",    "August",   "September", "October", "November", "December"};
static const char *const month_short[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_long[7] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *const day_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

#define DF_LETTERS "GyYMLdDEuaHkKhmsSzZXwWF"

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
static int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

/* Howard Hinnant's days_from_civil / civil_from_days. m is 1..12. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int dow_of(int64_t days) { return (int)floor_mod(days + 4, 7); } /* 0 = Sunday */

/* ---- compile ---- */

ma_datefmt *ma_datefmt_compile(const char *mask, ma_error *err)
{
    if (!mask) mask = "";
    ma_datefmt *f = calloc(1, sizeof *f);
    ma_sb lit;
    ma_sb_init(&lit);
    size_t cap = 0;
    if (!f || !(f->mask = ma_strdup(mask))) goto oom;
    size_t pending = 0; /* start in lit of the literal not yet in an item */
    for (size_t i = 0; mask[i];) {
        char c = mask[i];
        int is_letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (c == '\'') {
            if (mask[i + 1] == '\'') { /* '' is one quote, inside or outside quoted text */
                ma_sb_putc(&lit, '\'');
                i += 2;
                continue;
            }
            size_t j = i + 1;
            for (;;) {
                if (mask[j] == '\0') {
                    ma_error_set(err, MA_ERR_PARSE, "column %zu: quote is not closed (write '' for a quote character)",
                                 i + 1);
                    goto fail;
                }
                if (mask[j] == '\'') {
                    if (mask[j + 1] != '\'') break;
                    ma_sb_putc(&lit, '\'');
                    j += 2;
                    continue;
                }
                ma_sb_putc(&lit, mask[j]);
                j++;
            }
            i = j + 1;
            continue;
        }
        if (!is_letter) {
            ma_sb_putc(&lit, c);
            i++;
            continue;
        }
        if (!strchr(DF_LETTERS, c)) {
            ma_error_set(err, MA_ERR_PARSE,
                         "column %zu: '%c' is not a date pattern letter (supported: G y Y M L d D E u a H "
                         "k K h m s S z Z X w W F; quote literal text like 'T')",
                         i + 1, c);
            goto fail;
        }
        size_t j = i;
        while (mask[j] == c) j++;
        if (j - i > 255) {
            ma_error_set(err, MA_ERR_PARSE, "column %zu: '%c' is repeated more than 255 times", i + 1, c);
            goto fail;
        }
        if (c == 'X' && j - i > 3) {
            ma_error_set(err, MA_ERR_PARSE, "column %zu: X can be repeated at most 3 times (X, XX, XXX)", i + 1);
            goto fail;
        }
        /* flush the pending literal, then the field: two items at most */
        if (f->n + 2 > cap) {
            size_t ncap = cap ? cap * 2 : 8;
            df_item *it = realloc(f->items, ncap * sizeof *it);
            if (!it) goto oom;
            f->items = it;
            cap = ncap;
        }
        if (lit.len > pending) {
            f->items[f->n++] = (df_item){0, 0, pending, lit.len - pending};
            pending = lit.len;
        }
        f->items[f->n++] = (df_item){c, (int)(j - i), 0, 0};
        i = j;
    }
    if (lit.len > pending) {
        if (f->n + 1 > cap) {
            df_item *it = realloc(f->items, (cap + 1) * sizeof *it);
            if (!it) goto oom;
            f->items = it;
        }
        f->items[f->n++] = (df_item){0, 0, pending, lit.len - pending};
    }
    f->lit = ma_sb_take(&lit, NULL);
    if (!f->lit) goto oom;
    return f;
oom:
    ma_error_set(err, MA_ERR_NOMEM, "out of memory");
fail:
    ma_sb_free(&lit);
    ma_datefmt_free(f);
    return NULL;
}

void ma_datefmt_free(ma_datefmt *f)
{
    if (!f) return;
    free(f->mask);
    free(f->lit);
    free(f->items);
    free(f);
}

/* ---- format ---- */

/* Appends v (>= 0) zero-padded to at least width digits. */
static void put_num(ma_sb *out, int64_t v, int width)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && n < (int)sizeof buf);
    for (int i = n; i < width; i++) ma_sb_putc(out, '0');
    while (n > 0) ma_sb_putc(out, buf[--n]);
}

/* Week of year and week-based year, Sunday first, week 1 = the week holding January 1. */
static void week_of_year(int64_t days, int64_t y, int *week, int64_t *week_year)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    int64_t next_jan1 = days_from_civil(y + 1, 1, 1);
    if (days >= next_jan1 - dow_of(next_jan1)) {
        *week = 1;
        *week_year = y + 1;
        return;
    }
    *week = (int)((days - jan1 + dow_of(jan1)) / 7 + 1);
    *week_year = y;
}

static void put_year(ma_sb *out, int64_t y, int count)
{
    int64_t ey = y > 0 ? y : 1 - y; /* year of era: 1 BC is year 0 */
    if (count == 2) put_num(out, ey % 100, 2);
    else put_num(out, ey, count);
}

int ma_datefmt_format(const ma_datefmt *f, time_t secs, int millis, int utc_offset_min, ma_sb *out)
{
    /* keep the arithmetic far from int64 overflow: +-292 billion years is plenty */
    const int64_t lim = INT64_C(1) << 53;
    if (!f || (int64_t)secs > lim || (int64_t)secs < -lim || utc_offset_min > 24 * 60 || utc_offset_min < -24 * 60)
        return -1;
    int64_t t = (int64_t)secs + (int64_t)utc_offset_min * 60 + floor_div(millis, 1000);
    int ms = (int)floor_mod(millis, 1000);
    int64_t days = floor_div(t, 86400);
    int sod = (int)(t - days * 86400);
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int hour = sod / 3600, minute = sod / 60 % 60, second = sod % 60;
    int dow = dow_of(days);
    int64_t jan1 = days_from_civil(y, 1, 1);
    int off = utc_offset_min, aoff = off < 0 ? -off : off;
    char sign = off < 0 ? '-' : '+';

    for (size_t i = 0; i < f->n; i++) {
        const df_item *it = &f->items[i];
        int c = it->count;
        switch (it->letter) {
        case 0: ma_sb_append(out, f->lit + it->off, it->len); break;
        case 'G': ma_sb_puts(out, y > 0 ? "AD" : "BC"); break;
        case 'y': put_year(out, y, c); break;
        case 'Y': {
            int w;
            int64_t wy;
            week_of_year(days, y, &w, &wy);
            put_year(out, wy, c);
            break;
        }
        case 'M':
        case 'L':
            if (c >= 4) ma_sb_puts(out, month_long[m - 1]);
            else if (c == 3) ma_sb_puts(out, month_short[m - 1]);
            else put_num(out, m, c);
            break;
        case 'd': put_num(out, d, c); break;
        case 'D': put_num(out, days - jan1 + 1, c); break;
        case 'E': ma_sb_puts(out, c >= 4 ? day_long[dow] : day_short[dow]); break;
        case 'u': put_num(out, dow == 0 ? 7 : dow, c); break;
        case 'a': ma_sb_puts(out, hour < 12 ? "AM" : "PM"); break;
        case 'H': put_num(out, hour, c); break;
        case 'k': put_num(out, hour == 0 ? 24 : hour, c); break;
        case 'K': put_num(out, hour % 12, c); break;
        case 'h': put_num(out, hour % 12 == 0 ? 12 : hour % 12, c); break;
        case 'm': put_num(out, minute, c); break;
        case 's': put_num(out, second, c); break;
        case 'S': put_num(out, ms, c); break; /* milliseconds as a number, like Java */
        case 'w': {
            int w;
            int64_t wy;
            week_of_year(days, y, &w, &wy);
            put_num(out, w, c);
            break;
        }
        case 'W': {
            int64_t first = days - (d - 1);
            put_num(out, (d - 1 + dow_of(first)) / 7 + 1, c);
            break;
        }
        case 'F': put_num(out, (d - 1) / 7 + 1, c); break;
        case 'z':
            if (off == 0) ma_sb_puts(out, c >= 4 ? "Coordinated Universal Time" : "UTC");
            else ma_sb_printf(out, "GMT%c%02d:%02d", sign, aoff / 60, aoff % 60);
            break;
        case 'Z': ma_sb_printf(out, "%c%02d%02d", sign, aoff / 60, aoff % 60); break;
        case 'X':
            if (off == 0) ma_sb_putc(out, 'Z');
            else if (c == 1) ma_sb_printf(out, "%c%02d", sign, aoff / 60);
            else if (c == 2) ma_sb_printf(out, "%c%02d%02d", sign, aoff / 60, aoff % 60);
            else ma_sb_printf(out, "%c%02d:%02d", sign, aoff / 60, aoff % 60);
            break;
        default: break;
        }
    }
    return out->oom ? -1 : 0;
}

/* ---- parse ---- */

typedef struct pstate {
    int64_t year, month, day, doy, hour, hour12, minute, second, millis;
    int year_set, month_set, day_set, doy_set, hour_set, hour12_set;
    int bc, pm; /* pm: -1 not given */
    int off_min;
} pstate;

static int is_numeric_field(const df_item *it)
{
    switch (it->letter) {
    case 0:
    case 'G':
    case 'E':
    case 'a':
    case 'z':
    case 'Z':
    case 'X': return 0;
    case 'M':
    case 'L': return it->count < 3;
    default: return 1;
    }
}

/* Case-insensitive match of word at s; returns its length or 0. */
static size_t match_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    return strncasecmp(s, word, n) == 0 ? n : 0;
}

/* Longest of the long names, then the short names; returns the index or -1, *len consumed. */
static int match_names(const char *s, const char *const *lng, const char *const *shrt, int n, size_t *len)
{
    for (int i = 0; i < n; i++)
        if ((*len = match_word(s, lng[i])) > 0) return i;
    for (int i = 0; i < n; i++)
        if ((*len = match_word(s, shrt[i])) > 0) return i;
    return -1;
}

static int two_digits(const char *s, int *v)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) return -1;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* Offset after a sign: hh, h, hhmm, hh:mm, h:mm. Returns characters consumed or -1. */
static int parse_offset_digits(const char *s, int *minutes)
{
    int h = 0, m = 0, n = 0;
    if (!isdigit((unsigned char)s[0])) return -1;
    if (isdigit((unsigned char)s[1])) {
        h = (s[0] - '0') * 10 + (s[1] - '0');
        n = 2;
    } else {
        h = s[0] - '0';
        n = 1;
    }
    if (s[n] == ':') {
        if (two_digits(s + n + 1, &m) < 0) return -1;
        n += 3;
    } else if (n == 2 && two_digits(s + n, &m) == 0) {
        n += 2;
    }
    if (h > 23 || m > 59) return -1;
    *minutes = h * 60 + m;
    return n;
}

/* Any of the zone forms mini-Atom writes or Java reads: Z, UTC, UT, GMT, Coordinated Universal
 * Time, GMT+hh:mm, +hh, +hhmm, +hh:mm. Returns characters consumed or -1. */
static int parse_zone(const char *s, int *off)
{
    size_t n;
    if ((n = match_word(s, "Coordinated Universal Time")) > 0) {
        *off = 0;
        return (int)n;
    }
    if ((n = match_word(s, "GMT")) > 0 || (n = match_word(s, "UTC")) > 0 || (n = match_word(s, "UT")) > 0) {
        *off = 0;
        if (s[n] == '+' || s[n] == '-') {
            int mins, k = parse_offset_digits(s + n + 1, &mins);
            if (k > 0) {
                *off = s[n] == '-' ? -mins : mins;
                n += 1 + (size_t)k;
            }
        }
        return (int)n;
    }
    if (s[0] == 'Z') {
        *off = 0;
        return 1;
    }
    if (s[0] == '+' || s[0] == '-') {
        int mins, k = parse_offset_digits(s + 1, &mins);
        if (k < 0) return -1;
        *off = s[0] == '-' ? -mins : mins;
        return 1 + k;
    }
    return -1;
}

static int parse_fail(const ma_datefmt *f, const char *text, size_t pos, const char *what, ma_error *err)
{
    size_t len = strlen(text);
    return ma_error_set(err, MA_ERR_PARSE, "'%.*s%s' does not match date mask '%s' at character %zu: %s",
                        len > 64 ? 64 : (int)len, text, len > 64 ? "..." : "", f->mask, pos + 1, what);
}

/* Two-digit years land within 80 years before and 20 years after now, as in Java. */
static int64_t century_window(int64_t yy)
{
    time_t now = time(NULL);
    struct tm tm;
    int64_t cur = gmtime_r(&now, &tm) ? tm.tm_year + 1900 : 2000;
    int64_t start = cur - 80;
    int64_t y = start / 100 * 100 + yy;
    if (y < start) y += 100;
    return y;
}

int ma_datefmt_parse(const ma_datefmt *f, const char *text, time_t *secs, int *millis, ma_error *err)
{
    if (!f || !text) return ma_error_set(err, MA_ERR_USAGE, "ma_datefmt_parse: no mask or text");
    pstate st;
    memset(&st, 0, sizeof st);
    st.pm = -1;
    size_t pos = 0;
    char what[128];

    for (size_t i = 0; i < f->n; i++) {
        const df_item *it = &f->items[i];
        if (it->letter == 0) {
            if (strncmp(text + pos, f->lit + it->off, it->len) != 0) {
                snprintf(what, sizeof what, "expected '%.*s'", (int)(it->len > 40 ? 40 : it->len), f->lit + it->off);
                return parse_fail(f, text, pos, what, err);
            }
            pos += it->len;
            continue;
        }
        while (text[pos] == ' ' || text[pos] == '\t') pos++; /* Java skips blanks before a field */
        const char *s = text + pos;
        if (is_numeric_field(it)) {
            /* A field directly followed by another field reads at most count digits. */
            int obey = i + 1 < f->n && f->items[i + 1].letter != 0;
            size_t maxd = obey ? (size_t)it->count : SIZE_MAX, nd = 0;
            int64_t v = 0;
            int too_big = 0;
            for (; nd < maxd && isdigit((unsigned char)s[nd]); nd++) {
                if (!too_big) v = v * 10 + (s[nd] - '0');
                if (v > 999999999) too_big = 1;
            }
            if (nd == 0) {
                char field[9];
                int fl = it->count > 8 ? 8 : it->count;
                memset(field, it->letter, (size_t)fl);
                field[fl] = '\0';
                snprintf(what, sizeof what, "expected a number for '%s'", field);
                return parse_fail(f, text, pos, what, err);
            }
            if (too_big) {
                snprintf(what, sizeof what, "number for '%c' is too large", it->letter);
                return parse_fail(f, text, pos, what, err);
            }
            switch (it->letter) {
            case 'y':
            case 'Y':
                if (it->letter == 'y' || !st.year_set) {
                    st.year = (it->count <= 2 && nd == 2) ? century_window(v) : v;
                    st.year_set = 1;
                }
                break;
            case 'M':
            case 'L':
                st.month = v;
                st.month_set = 1;
                break;
            case 'd':
                st.day = v;
                st.day_set = 1;
                break;
            case 'D':
                st.doy = v;
                st.doy_set = 1;
                break;
            case 'H':
                st.hour = v;
                st.hour_set = 1;
                break;
            case 'k':
                st.hour = v == 24 ? 0 : v;
                st.hour_set = 1;
                break;
            case 'K':
                st.hour12 = v;
                st.hour12_set = 1;
                break;
            case 'h':
                st.hour12 = v == 12 ? 0 : v;
                st.hour12_set = 1;
                break;
            case 'm': st.minute = v; break;
            case 's': st.second = v; break;
            case 'S': st.millis = v; break;
            default: break; /* u w W F: read, but y-M-d decides the date */
            }
            pos += nd;
            continue;
        }
        size_t n = 0;
        int k;
        switch (it->letter) {
        case 'G':
            if ((n = match_word(s, "AD")) > 0) st.bc = 0;
            else if ((n = match_word(s, "BC")) > 0) st.bc = 1;
            else return parse_fail(f, text, pos, "expected AD or BC", err);
            break;
        case 'M':
        case 'L':
            k = match_names(s, month_long, month_short, 12, &n);
            if (k < 0) return parse_fail(f, text, pos, "expected a month name like Jan or January", err);
            st.month = k + 1;
            st.month_set = 1;
            break;
        case 'E':
            if (match_names(s, day_long, day_short, 7, &n) < 0)
                return parse_fail(f, text, pos, "expected a day name like Mon or Monday", err);
            break;
        case 'a':
            if ((n = match_word(s, "AM")) > 0) st.pm = 0;
            else if ((n = match_word(s, "PM")) > 0) st.pm = 1;
            else return parse_fail(f, text, pos, "expected AM or PM", err);
            break;
        case 'z':
        case 'Z':
        case 'X':
            k = parse_zone(s, &st.off_min);
            if (k < 0)
                return parse_fail(f, text, pos, "expected a time zone like Z, UTC, +0000, +00:00 or GMT+00:00", err);
            n = (size_t)k;
            break;
        default: break;
        }
        pos += n;
    }
    /* Trailing text is ignored, as Java's DateFormat.parse(String) does. */

    int64_t y = st.year_set ? st.year : 1970;
    if (st.bc) y = 1 - y;
    int64_t days;
    if (st.doy_set && !st.month_set && !st.day_set) {
        days = days_from_civil(y, 1, 1) + st.doy - 1;
    } else {
        int64_t m0 = (st.month_set ? st.month : 1) - 1; /* lenient: month 13 is next January */
        y += floor_div(m0, 12);
        m0 = floor_mod(m0, 12);
        days = days_from_civil(y, (int)m0 + 1, 1) + (st.day_set ? st.day : 1) - 1;
    }
    int64_t hour = st.hour;
    if (st.hour12_set) hour = st.hour12 + (st.pm == 1 ? 12 : 0);
    else if (!st.hour_set && st.pm == 1) hour = 12;
    int64_t t = days * 86400 + hour * 3600 + st.minute * 60 + st.second - (int64_t)st.off_min * 60 + st.millis / 1000;
    *secs = (time_t)t;
    *millis = (int)(st.millis % 1000);
    return 0;
}

int ma_datefmt_convert(const char *text, const char *from_mask, const char *to_mask, char **out, ma_error *err)
{
    *out = NULL;
    if (!*text) return (*out = ma_strdup("")) ? 0 : ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    ma_datefmt *from = ma_datefmt_compile(from_mask, err), *to = from ? ma_datefmt_compile(to_mask, err) : NULL;
    time_t secs;
    int ms, rc = -1;
    if (from && to) {
        if (ma_datefmt_parse(from, text, &secs, &ms, err) < 0) {
            rc = 1;
        } else {
            ma_sb b;
            ma_sb_init(&b);
            ma_datefmt_format(to, secs, ms, 0, &b);
            *out = ma_sb_take(&b, NULL);
            rc = *out ? 0 : ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    ma_datefmt_free(from);
    ma_datefmt_free(to);
    return rc;
}
