/*
 * _gdeltscan: the fast path of dualthreat's GDELT reader (see dualthreat/ingest/events/).
 *
 * A Scanner is fed a GDELT event file in chunks of any size (the caller hashes the same chunks). It splits
 * the bytes into lines ('\n'; a '\r' before it is dropped), splits each line into tab-separated fields, and
 * checks every line as the reference SQL path does (gdelt_sql in events/sql.py), in the same order, so that both
 * paths reject the same lines for the same field:
 *
 *   1. the line is shorter than max_line bytes and holds no other '\r';
 *   2. the columns read hold valid UTF-8; the line has at most max_fields fields, and at least its last
 *      required column;
 *   3. column by column, in file order, each value read parses (whole numbers, decimal numbers, a YYYYMMDD
 *      date: the grammar written next to _WHOLE and _DECIMAL in events/sql.py) and is in its range.
 *
 * Per line it then either records a rejection (line, kind, column, the value as in the file), or counts the
 * line in its day's totals and, when both actors are states of the theater and differ, keeps the line's bytes
 * and line number. It never allocates per line (but for a decimal of more than 415 characters); memory is
 * bounded by the kept lines and the rejections. tests/test_events_scanner.py runs both paths on the same files
 * and requires identical results.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__GLIBC__) || defined(__APPLE__)
#include <locale.h>
#ifdef __APPLE__
#include <xlocale.h>
#endif
/* numbers are read with a '.' whatever LC_NUMERIC the embedding program set */
static locale_t c_locale;
static double c_strtod(const char *p) { return c_locale ? strtod_l(p, NULL, c_locale) : strtod(p, NULL); }
#else
static double c_strtod(const char *p) { return strtod(p, NULL); }
#endif

#define MAX_COLS 64

enum { R_LINE = 0, R_MANY = 1, R_FEWER = 2, R_UTF8 = 3, R_VALUE = 4, R_CR = 5 };

typedef struct { int64_t day, events, root_events, mentions, root_mentions; } DayTot;

typedef struct { char *p; size_t len, cap; } Buf;

static int buf_put(Buf *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return -1;
        b->p = q; b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

typedef struct {
    PyObject_HEAD
    /* layout */
    int max_fields, last_col;
    int read[MAX_COLS];       /* the columns read (their UTF-8 is checked), in order; read_n of them */
    int read_n;
    int c_id, c_day, c_root, c_code, c_rootcode, c_quad, c_gold, c_ment, c_src, c_art, c_tone, c_added;
    int c_a1code, c_a1country, c_a2code, c_a2country;
    long long skip;
    size_t max_line;
    char codes[256][3];       /* theater country codes; codes_n of them */
    int code_state[256];
    int codes_n;
    /* state */
    long long line;           /* physical lines seen */
    long long rows_in, valid;
    Buf carry;
    int carry_over;           /* the pending line is longer than max_line */
    int busy;                 /* feed() or finish() is running (feed() releases the GIL) */
    int state;                /* 0: not initialised (or its __init__ failed), 1: ready, 2: finished */
    /* results */
    Buf rej;                  /* records: int64 line, int32 kind, int32 col, int32 vlen, value */
    long long n_rej;
    Buf kept;                 /* kept lines, each followed by '\n' */
    Buf kept_lines;           /* int64 line numbers */
    DayTot *days; size_t days_n, days_cap;
    uint32_t *day_at;         /* DAY_KEYS entries: 1 + the index in days of each day seen, else 0 */
    int err;                  /* out of memory: the buffers may hold half a record, the scanner is unusable */
} Scanner;

/* feed() and finish() refuse a Scanner another thread is feeding, one not initialised (or whose __init__
   failed half way), one already finished, and one that ran out of memory */
static int usable(Scanner *s) {
    const char *why = s->busy ? "Scanner used while another call is running on it"
                    : s->err ? "Scanner unusable: it ran out of memory earlier"
                    : s->state == 0 ? "Scanner not initialised"
                    : s->state == 2 ? "Scanner already finished" : NULL;
    if (why) PyErr_SetString(PyExc_RuntimeError, why);
    return why == NULL;
}

/* ---------------------------------------------------------------------------------------------- */
/* values                                                                                          */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* integer: optional sign, digits; optional surrounding spaces. Returns 0 if not an integer or out of range. */
static int parse_int(const char *p, size_t n, int64_t lo, int64_t hi, int64_t *out) {
    size_t i = 0;
    while (i < n && p[i] == ' ') i++;
    while (n > i && p[n - 1] == ' ') n--;
    if (i >= n) return 0;
    int neg = 0;
    if (p[i] == '+' || p[i] == '-') { neg = p[i] == '-'; i++; }
    if (i >= n) return 0;
    uint64_t v = 0;
    uint64_t limit = neg ? (uint64_t)(-(lo + 1)) + 1 : (uint64_t)hi;
    for (; i < n; i++) {
        if (!is_digit(p[i])) return 0;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (limit - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

/* double: optional sign, digits with an optional '.' (at least one digit), optional exponent; optional
   surrounding spaces (no inf or nan). The value is correctly rounded, as strtod's (and DuckDB's, at any
   length). Returns 1, 0 (not a double) or -1 (out of memory: a value of more than 415 characters). */
static int parse_double(const char *p, size_t n, double *out) {
    size_t i = 0;
    while (i < n && p[i] == ' ') i++;
    while (n > i && p[n - 1] == ' ') n--;
    if (i >= n) return 0;
    size_t start = i;
    if (p[i] == '+' || p[i] == '-') i++;
    size_t digits = 0, j = i;
    while (j < n && is_digit(p[j])) { j++; digits++; }
    if (j < n && p[j] == '.') { j++; while (j < n && is_digit(p[j])) { j++; digits++; } }
    if (digits == 0) return 0;
    if (j < n && (p[j] == 'e' || p[j] == 'E')) {
        j++;
        if (j < n && (p[j] == '+' || p[j] == '-')) j++;
        size_t e = 0;
        while (j < n && is_digit(p[j])) { j++; e++; }
        if (e == 0) return 0;
    }
    if (j != n) return 0;
    /* the exact fast path (Clinger 1990): at most 15 significant digits and no exponent; the integer of the
       digits and the power of ten are exact doubles, so one division is correctly rounded, as strtod */
    if (digits <= 15) {
        size_t q = start;
        int neg = 0;
        if (p[q] == '+' || p[q] == '-') { neg = p[q] == '-'; q++; }
        int64_t mant = 0;
        int frac = -1, exp_seen = 0;
        for (; q < n; q++) {
            if (p[q] == '.') { frac = 0; continue; }
            if (p[q] == 'e' || p[q] == 'E') { exp_seen = 1; break; }
            mant = mant * 10 + (p[q] - '0');
            if (frac >= 0) frac++;
        }
        if (!exp_seen) {
            static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
                                           1e13, 1e14, 1e15};
            double v = (double)mant;
            if (frac > 0) v /= pow10[frac];
            *out = neg ? -v : v;
            return 1;
        }
    }
    /* strtod needs a terminated copy; a value longer than any real one (only a hostile file has one) gets a
       heap copy */
    char stack[416], *tmp = n - start < sizeof stack ? stack : malloc(n - start + 1);
    if (!tmp) return -1;
    memcpy(tmp, p + start, n - start);
    tmp[n - start] = 0;
    *out = c_strtod(tmp);
    if (tmp != stack) free(tmp);
    return 1;
}

static int days_in_month(int y, int m) {
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return d[m - 1];
}

/* date as '%Y%m%d': exactly eight digits naming a real day; the value is yyyymmdd. */
static int parse_date(const char *p, size_t n, int64_t *out) {
    if (n != 8) return 0;
    for (size_t i = 0; i < 8; i++) if (!is_digit(p[i])) return 0;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    int m = (p[4] - '0') * 10 + (p[5] - '0');
    int d = (p[6] - '0') * 10 + (p[7] - '0');
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return 0;
    *out = (int64_t)y * 10000 + m * 100 + d;
    return 1;
}

/* UTF-8 as DuckDB's scanner requires: well-formed, no overlong forms or surrogates, up to U+10FFFF. */
static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t k;
        unsigned min;
        if ((c & 0xE0) == 0xC0) { k = 1; c &= 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 2; c &= 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 3; c &= 0x07; min = 0x10000; }
        else return 0;
        if (i + k >= n) return 0;
        for (size_t t = 1; t <= k; t++) {
            unsigned b = s[i + t];
            if ((b & 0xC0) != 0x80) return 0;
            c = (c << 6) | (b & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

static size_t utf8_chars(const unsigned char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += (s[i] & 0xC0) != 0x80;
    return c;
}

/* ---------------------------------------------------------------------------------------------- */
/* one line                                                                                       */

static int reject(Scanner *s, int kind, int col, const char *v, size_t vlen) {
    if (vlen > 200) vlen = 200;  /* enough for the message, which shows 40 characters */
    int64_t line = s->line;
    int32_t hdr[3] = {kind, col, (int32_t)vlen};
    if (buf_put(&s->rej, &line, 8) || buf_put(&s->rej, hdr, 12) || buf_put(&s->rej, v, vlen)) return -1;
    s->n_rej++;
    return 0;
}

/* scan_line counts only days from 1900-01-01 to 2100-12-31 (it rejects the others): 31 slots a month */
#define DAY_KEYS (201 * 12 * 31)

static DayTot *day_slot(Scanner *s, int64_t day) {
    /* a direct index, not a list searched per line: a hostile file can hold every one of the ~73,000 days */
    if (!s->day_at && !(s->day_at = calloc(DAY_KEYS, sizeof *s->day_at))) return NULL;
    size_t key = ((size_t)(day / 10000 - 1900) * 12 + (size_t)(day / 100 % 100 - 1)) * 31 + (size_t)(day % 100 - 1);
    if (s->day_at[key]) return &s->days[s->day_at[key] - 1];
    if (s->days_n == s->days_cap) {
        size_t cap = s->days_cap ? s->days_cap * 2 : 64;
        DayTot *q = realloc(s->days, cap * sizeof(DayTot));
        if (!q) return NULL;
        s->days = q; s->days_cap = cap;
    }
    DayTot *t = &s->days[s->days_n++];
    memset(t, 0, sizeof *t);
    t->day = day;
    s->day_at[key] = (uint32_t)s->days_n;
    return t;
}

static int state_of(Scanner *s, const char *p, size_t n) {
    if (n != 3) return -1;
    for (int i = 0; i < s->codes_n; i++)
        if (memcmp(s->codes[i], p, 3) == 0) return s->code_state[i];
    return -1;
}

/* the actor's state: the country field, else the first three characters of the (left-trimmed) actor code */
static int actor_state(Scanner *s, const char *f, size_t fn, int fnull, const char *a, size_t an, int anull) {
    if (fnull) return -1;
    if (fn) return state_of(s, f, fn);
    if (anull) return -1;
    size_t i = 0;
    while (i < an && a[i] == ' ') i++;
    return an - i >= 3 ? state_of(s, a + i, 3) : -1;
}

static int scan_line(Scanner *s, const char *p, size_t len, int too_long) {
    s->line++;
    if (s->line <= s->skip) return 0;
    if (too_long) {
        s->rows_in++;
        return reject(s, R_LINE, -1, "", 0);
    }
    if (len && p[len - 1] == '\r') len--;
    if (s->line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) { p += 3; len -= 3; }  /* a UTF-8 BOM */
    if (len == 0) return 0;  /* empty lines are skipped, not counted */
    s->rows_in++;

    /* split into fields */
    const char *fs[MAX_COLS + 1];
    size_t fl[MAX_COLS + 1];
    int nf = 0;
    size_t start = 0, i = 0;
    int total = 1;
    unsigned high = 0;  /* any byte >= 0x80 (not ASCII) */
    unsigned cr = 0;    /* any '\r' */
#ifdef __SSE2__
    const __m128i tab = _mm_set1_epi8('\t'), ret = _mm_set1_epi8('\r');
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        high |= (unsigned)_mm_movemask_epi8(v);
        cr |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, ret));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, tab));
        while (mask) {
            size_t at = i + (size_t)__builtin_ctz(mask);
            if (nf < MAX_COLS) { fs[nf] = p + start; fl[nf] = at - start; nf++; }
            total++;
            start = at + 1;
            mask &= mask - 1;
        }
        i += 16;
    }
#endif
    for (; i < len; i++) {
        high |= (unsigned char)p[i] & 0x80;
        cr |= p[i] == '\r';
        if (p[i] == '\t') {
            if (nf < MAX_COLS) { fs[nf] = p + start; fl[nf] = i - start; nf++; }
            total++;
            start = i + 1;
        }
    }
    if (nf < MAX_COLS) { fs[nf] = p + start; fl[nf] = len - start; nf++; }

    /* a carriage return that does not end the line: a broken line end (DuckDB's scanner refuses such files) */
    if (cr) return reject(s, R_CR, -1, "", 0);

    /* 1. the text of every column read must be UTF-8; then, the number of fields */
    int nul[MAX_COLS];
    int ascii = high == 0;
    for (int k = 0; k < s->read_n; k++) {
        int c = s->read[k];
        nul[c] = c >= nf;  /* a missing field (the line is short); no other value is NULL */
        if (nul[c]) { fs[c] = p + len; fl[c] = 0; continue; }  /* never read, but never left unset either */
        if (!ascii && !valid_utf8((const unsigned char *)fs[c], fl[c])) return reject(s, R_UTF8, c, fs[c], fl[c]);
    }
    if (total > s->max_fields) return reject(s, R_MANY, -1, "", 0);
    if (nul[s->last_col]) return reject(s, R_FEWER, -1, "", 0);  /* a short line */

    /* 2. the values, column by column: the first that does not parse or is out of range is reported */
#define BAD(col) return reject(s, R_VALUE, col, fs[col], fl[col])
    int64_t id, day, root, quad, ment, src, art, added;
    double gold, tone;
    int ok = 1;  /* parse_double's result: -1 is out of memory */
    int c = s->c_id;
    if (nul[c] || !parse_int(fs[c], fl[c], INT64_MIN, INT64_MAX, &id)) BAD(c);
    c = s->c_day;
    if (nul[c] || !parse_date(fs[c], fl[c], &day) || day < 19000101 || day > 21001231) BAD(c);
    c = s->c_root;
    if (nul[c] || !parse_int(fs[c], fl[c], INT32_MIN, INT32_MAX, &root) || (root != 0 && root != 1)) BAD(c);
    c = s->c_code;
    if (nul[c] || fl[c] == 0) BAD(c);
    c = s->c_rootcode;
    {
        /* two characters from "01" to "20", compared byte by byte as SQL compares strings */
        const unsigned char *r = (const unsigned char *)fs[c];
        size_t rn = fl[c], m = rn < 2 ? rn : 2;
        int below = memcmp(r, "01", m) < 0 || (memcmp(r, "01", m) == 0 && rn < 2);
        int above = memcmp(r, "20", m) > 0 || (memcmp(r, "20", m) == 0 && rn > 2);
        if (nul[c] || utf8_chars(r, rn) != 2 || below || above) BAD(c);
    }
    c = s->c_quad;
    if (nul[c] || !parse_int(fs[c], fl[c], INT32_MIN, INT32_MAX, &quad) || quad < 1 || quad > 4) BAD(c);
    c = s->c_gold;
    if (nul[c] || (ok = parse_double(fs[c], fl[c], &gold)) != 1 || !(gold >= -10 && gold <= 10)) {
        if (ok < 0) return -1;
        BAD(c);
    }
    c = s->c_ment;
    if (nul[c] || !parse_int(fs[c], fl[c], INT32_MIN, INT32_MAX, &ment) || ment < 0) BAD(c);
    c = s->c_src;
    if (nul[c] || !parse_int(fs[c], fl[c], INT32_MIN, INT32_MAX, &src) || src < 0) BAD(c);
    c = s->c_art;
    if (nul[c] || !parse_int(fs[c], fl[c], INT32_MIN, INT32_MAX, &art) || art < 0) BAD(c);
    c = s->c_tone;
    if (nul[c] || (ok = parse_double(fs[c], fl[c], &tone)) != 1 || !(tone >= -100 && tone <= 100)) {
        if (ok < 0) return -1;
        BAD(c);
    }
    c = s->c_added;
    if (nul[c] || !parse_int(fs[c], fl[c], INT64_MIN, INT64_MAX, &added)
        || !((added >= 19000101 && added <= 21001231) || (added >= 19000101000000LL && added <= 21001231235959LL)))
        BAD(c);
#undef BAD

    /* a valid line: its day's totals */
    s->valid++;
    DayTot *t = day_slot(s, day);
    if (!t) return -1;
    t->events++;
    t->root_events += root;
    t->mentions += ment;
    if (root) t->root_mentions += ment;

    /* an event between two of the theater's states: kept */
    int a = actor_state(s, fs[s->c_a1country], fl[s->c_a1country], nul[s->c_a1country],
                        fs[s->c_a1code], fl[s->c_a1code], nul[s->c_a1code]);
    if (a < 0) return 0;
    int b = actor_state(s, fs[s->c_a2country], fl[s->c_a2country], nul[s->c_a2country],
                        fs[s->c_a2code], fl[s->c_a2code], nul[s->c_a2code]);
    if (b < 0 || a == b) return 0;
    int64_t line = s->line;
    if (buf_put(&s->kept, p, len) || buf_put(&s->kept, "\n", 1) || buf_put(&s->kept_lines, &line, 8)) return -1;
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* feeding                                                                                        */

/* Lines end with '\n'. A line is too long when its bytes with the line end (a '\r' before the '\n' included)
   exceed max_line, i.e. when the bytes before the '\n' are max_line or more (as DuckDB's max_line_size). A
   partial line waiting for the next chunk is kept in carry, up to that length. */
static int feed_bytes(Scanner *s, const char *p, size_t n) {
    size_t i = 0;
    if (s->carry.len || s->carry_over) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!s->carry_over) {
            if (s->carry.len + take >= s->max_line) s->carry_over = 1;
            else if (buf_put(&s->carry, p, take)) return -1;
        }
        if (!nl) return 0;
        if (scan_line(s, s->carry.p, s->carry.len, s->carry_over)) return -1;
        s->carry.len = 0;
        s->carry_over = 0;
        i = take + 1;
    }
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        if (!nl) {
            size_t rest = n - i;
            if (rest >= s->max_line) s->carry_over = 1;
            else if (buf_put(&s->carry, p + i, rest)) return -1;
            return 0;
        }
        size_t len = (size_t)(nl - (p + i));
        if (scan_line(s, p + i, len, len >= s->max_line)) return -1;
        i += len + 1;
    }
    return 0;
}

static PyObject *Scanner_feed(Scanner *s, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (!usable(s)) {
        PyBuffer_Release(&view);
        return NULL;
    }
    s->busy = 1;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = feed_bytes(s, (const char *)view.buf, (size_t)view.len);
    Py_END_ALLOW_THREADS
    s->busy = 0;
    PyBuffer_Release(&view);
    if (rc) { s->err = 1; return PyErr_NoMemory(); }
    Py_RETURN_NONE;
}

static PyObject *build_results(Scanner *s);

/* the end of the file: a last line without a final newline is a line */
static PyObject *Scanner_finish(Scanner *s, PyObject *Py_UNUSED(ignored)) {
    if (!usable(s)) return NULL;
    if (s->carry.len || s->carry_over) {
        size_t cl = s->carry.len;
        int over = s->carry_over || cl >= s->max_line;
        if (scan_line(s, s->carry.p, cl, over)) { s->err = 1; return PyErr_NoMemory(); }
        s->carry.len = 0;
        s->carry_over = 0;
    }
    /* building the results may run Python code (a garbage collection): no feed() meanwhile */
    s->busy = 1;
    PyObject *out = build_results(s);
    s->busy = 0;
    if (out) s->state = 2;
    return out;
}

static PyObject *build_results(Scanner *s) {
    PyObject *rej = PyList_New(0);
    if (!rej) return NULL;
    size_t off = 0;
    for (long long k = 0; k < s->n_rej; k++) {
        int64_t line;
        int32_t hdr[3];
        memcpy(&line, s->rej.p + off, 8);
        memcpy(hdr, s->rej.p + off + 8, 12);
        off += 20;
        PyObject *t = Py_BuildValue("(Liiy#)", (long long)line, hdr[0], hdr[1], s->rej.p + off, (Py_ssize_t)hdr[2]);
        off += (size_t)hdr[2];
        if (!t || PyList_Append(rej, t)) { Py_XDECREF(t); Py_DECREF(rej); return NULL; }
        Py_DECREF(t);
    }
    PyObject *days = PyList_New(0);
    if (!days) { Py_DECREF(rej); return NULL; }
    for (size_t k = 0; k < s->days_n; k++) {
        DayTot *t = &s->days[k];
        PyObject *tup = Py_BuildValue("(LLLLL)", (long long)t->day, (long long)t->events, (long long)t->root_events,
                                      (long long)t->mentions, (long long)t->root_mentions);
        if (!tup || PyList_Append(days, tup)) { Py_XDECREF(tup); Py_DECREF(rej); Py_DECREF(days); return NULL; }
        Py_DECREF(tup);
    }
    return Py_BuildValue("{s:L,s:L,s:N,s:N,s:y#,s:y#}",
                         "rows_in", s->rows_in, "valid", s->valid, "rejections", rej,
                         "days", days, "kept", s->kept.p ? s->kept.p : "", (Py_ssize_t)s->kept.len,
                         "kept_lines", s->kept_lines.p ? s->kept_lines.p : "", (Py_ssize_t)s->kept_lines.len);
}

/* ---------------------------------------------------------------------------------------------- */
/* construction                                                                                   */

static int get_col(PyObject *roles, const char *name, int *out, int max) {
    PyObject *v = PyDict_GetItemString(roles, name);
    if (!v) { PyErr_Format(PyExc_KeyError, "roles: missing %s", name); return -1; }
    long c = PyLong_AsLong(v);
    if (c == -1 && PyErr_Occurred()) return -1;
    if (c < 0 || c >= max) { PyErr_Format(PyExc_ValueError, "roles: %s out of range", name); return -1; }
    *out = (int)c;
    return 0;
}

static int init_layout(Scanner *s, PyObject *args, PyObject *kw);

static int Scanner_init(Scanner *s, PyObject *args, PyObject *kw) {
    if (s->busy) {
        /* __init__ runs Python code (the __index__ of the numbers it reads), which may call __init__ again */
        PyErr_SetString(PyExc_RuntimeError, "Scanner used while another call is running on it");
        return -1;
    }
    if (s->state != 0) {
        /* a second __init__ failing half way would leave the roles and read[] of two layouts */
        PyErr_SetString(PyExc_RuntimeError, "Scanner already initialised");
        return -1;
    }
    s->busy = 1;
    int rc = init_layout(s, args, kw);
    s->busy = 0;
    if (rc == 0) s->state = 1;
    return rc;
}

static int init_layout(Scanner *s, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"max_fields", "read", "roles", "states", "skip", "max_line", NULL};
    PyObject *read, *roles, *states;
    long long skip;
    Py_ssize_t max_line;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "iOO!O!Ln", kwlist, &s->max_fields, &read,
                                     &PyDict_Type, &roles, &PyDict_Type, &states, &skip, &max_line))
        return -1;
    if (s->max_fields < 1 || s->max_fields > MAX_COLS) {
        PyErr_SetString(PyExc_ValueError, "max_fields out of range (1 to 64)");
        return -1;
    }
    if (max_line < 1) { PyErr_SetString(PyExc_ValueError, "max_line must be positive"); return -1; }
    int m = s->max_fields;
    if (get_col(roles, "last", &s->last_col, m) || get_col(roles, "id", &s->c_id, m)
        || get_col(roles, "day", &s->c_day, m) || get_col(roles, "root", &s->c_root, m)
        || get_col(roles, "code", &s->c_code, m) || get_col(roles, "root_code", &s->c_rootcode, m)
        || get_col(roles, "quad", &s->c_quad, m) || get_col(roles, "goldstein", &s->c_gold, m)
        || get_col(roles, "mentions", &s->c_ment, m) || get_col(roles, "sources", &s->c_src, m)
        || get_col(roles, "articles", &s->c_art, m) || get_col(roles, "tone", &s->c_tone, m)
        || get_col(roles, "added", &s->c_added, m) || get_col(roles, "a1code", &s->c_a1code, m)
        || get_col(roles, "a1country", &s->c_a1country, m) || get_col(roles, "a2code", &s->c_a2code, m)
        || get_col(roles, "a2country", &s->c_a2country, m))
        return -1;
    /* the columns read, in order; every role must be among them (their NULL flags are set there) */
    int is_read[MAX_COLS] = {0};
    PyObject *seq = PySequence_Fast(read, "read must be a sequence of column indices");
    if (!seq) return -1;
    for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(seq); k++) {
        long c = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, k));
        if (c < 0 || c >= m) {
            Py_DECREF(seq);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "read: column index out of range");
            return -1;
        }
        is_read[c] = 1;
    }
    Py_DECREF(seq);
    int roles_[] = {s->last_col, s->c_id, s->c_day, s->c_root, s->c_code, s->c_rootcode, s->c_quad, s->c_gold,
                    s->c_ment, s->c_src, s->c_art, s->c_tone, s->c_added, s->c_a1code, s->c_a1country, s->c_a2code,
                    s->c_a2country};
    for (size_t k = 0; k < sizeof roles_ / sizeof roles_[0]; k++) {
        if (!is_read[roles_[k]]) { PyErr_SetString(PyExc_ValueError, "read must hold every role's column"); return -1; }
        /* a line without 'last' is rejected (R_FEWER) before any value is looked at: every role column is then
           present. A role after 'last' could be missing from a line that passed that check. */
        if (roles_[k] > s->last_col) {
            PyErr_SetString(PyExc_ValueError, "roles: every role's column must be at or before last's");
            return -1;
        }
    }
    s->read_n = 0;
    for (int c = 0; c < m; c++)
        if (is_read[c]) s->read[s->read_n++] = c;
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    s->codes_n = 0;
    while (PyDict_Next(states, &pos, &key, &val)) {
        char *b;
        Py_ssize_t bn;
        if (PyBytes_AsStringAndSize(key, &b, &bn) < 0) return -1;
        if (bn != 3 || s->codes_n >= 256) { PyErr_SetString(PyExc_ValueError, "state codes: 3 bytes, at most 256"); return -1; }
        memcpy(s->codes[s->codes_n], b, 3);
        s->code_state[s->codes_n] = (int)PyLong_AsLong(val);
        if (PyErr_Occurred()) return -1;
        s->codes_n++;
    }
    s->skip = skip;
    s->max_line = (size_t)max_line;
    return 0;
}

static void Scanner_dealloc(Scanner *s) {
    free(s->carry.p); free(s->rej.p); free(s->kept.p); free(s->kept_lines.p); free(s->days); free(s->day_at);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyMethodDef Scanner_methods[] = {
    {"feed", (PyCFunction)Scanner_feed, METH_O, "feed(chunk): scan the next bytes of the file (releases the GIL)."},
    {"finish", (PyCFunction)Scanner_finish, METH_NOARGS,
     "finish() -> dict: the end of the file; rows_in, valid, rejections, days, kept, kept_lines."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dualthreat.ingest._gdeltscan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Scanner(max_fields, read, roles, states, skip, max_line): one GDELT event file.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gdeltscan",
                                    "The fast path of dualthreat's GDELT reader.", -1, NULL};

PyMODINIT_FUNC PyInit__gdeltscan(void) {
#if defined(__GLIBC__) || defined(__APPLE__)
    if (!c_locale) c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
#endif
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) { Py_DECREF(&ScannerType); Py_DECREF(m); return NULL; }
    PyModule_AddIntConstant(m, "R_LINE", R_LINE); PyModule_AddIntConstant(m, "R_MANY", R_MANY);
    PyModule_AddIntConstant(m, "R_FEWER", R_FEWER); PyModule_AddIntConstant(m, "R_UTF8", R_UTF8);
    PyModule_AddIntConstant(m, "R_VALUE", R_VALUE); PyModule_AddIntConstant(m, "R_CR", R_CR);
    return m;
}
