/*
 * skelzs.stream._fastparse: the number tokenizer of the NTU .skeleton reader, in C.
 *
 * tokenize(data) splits a whole text file into whitespace-separated numbers in one pass and
 * returns what skelzs/stream/ntu.py calls ``_Tokens``, as raw buffers that Python wraps with
 * numpy.frombuffer (so building this module needs no numpy headers):
 *
 *     (values, line_ntok, line_start, line_int, bad_line)
 *     values      bytearray of float64, every number of the file in order
 *     line_ntok   bytearray of Py_ssize_t, the token count of each line
 *     line_start  bytearray of Py_ssize_t, the byte offset where each line starts
 *     line_int    bytearray of int64, the first token of each line when it is a plain
 *                 non-negative integer below 2^63 (counts, body ids), else -1
 *     bad_line    -1, or the 0-based line of the first token this module does not accept
 *                 (then the four buffers are None and Python names the error).
 *
 * Lines are cut at '\n' exactly as ``data.split(b"\n")`` cuts them (a file ending in '\n' has
 * an empty last line), so CRLF and LF files give the same tokens. Whitespace is ' ', '\t',
 * '\r', '\n'; any other byte (letters, control or binary bytes) belongs to a token, and a
 * token must match  [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?  or the line is
 * reported. Every accepted token is a string float() accepts, and its value is bit-identical
 * to float()'s:
 *   - Clinger's fast path: when the decimal mantissa m (at most 19 digits, so it fits a
 *     uint64) is at most 2^53 and the decimal exponent e satisfies |e| <= 22, m and 10^|e|
 *     are exact doubles, so the one IEEE multiplication or division m * 10^e (m / 10^-e) is
 *     the correctly rounded result (Clinger 1990, "How to read floating point numbers
 *     accurately"). All NTU joint values (e.g. -0.2347042) take this path.
 *   - Otherwise (64-bit body ids such as 72057594037931101, long mantissas, large exponents)
 *     the token goes through PyOS_string_to_double, the routine float() itself uses.
 * Non-finite results (1e999) are reported like garbage: the Python side raises the error.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* 10^0 .. 10^22: every one is exactly representable as a double. */
static const double POW10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define MAX_SLOW_TOKEN 128    /* longer tokens are left to Python's float() */
#define EXP_CLAMP 100000      /* exponent digits beyond this cannot change a finite result */

static inline int is_space(unsigned char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/*
 * Parse the number that starts at s (a non-space byte) and ends at the next whitespace or at
 * `end`, where *end == '\0' (bytes objects always carry that terminator, so the scanning loops
 * stop there without bounds checks; a NUL byte inside the data is rejected like any other
 * glued byte). Stores the value in *out and returns the pointer just past the number, or NULL
 * when the token is not a plain finite decimal number.
 */
static inline const unsigned char *parse_number(const unsigned char *s, const unsigned char *end,
                                                double *out) {
    const unsigned char *p = s, *q;
    int neg = (*p == '-');    /* branch-free: about half of all values are negative */
    p += neg | (*p == '+');
    uint64_t mant = 0;        /* the digits, exact while there are at most 19 of them */
    int64_t exp10 = 0;        /* decimal exponent to apply to mant */
    unsigned d;

    q = p;                    /* integer part (unsigned arithmetic: wrapping is defined) */
    while ((d = (unsigned)(*p - '0')) < 10) { mant = mant * 10 + d; p++; }
    int64_t ndigits = p - q;
    if (*p == '.') {
        q = ++p;              /* fraction part */
        while ((d = (unsigned)(*p - '0')) < 10) { mant = mant * 10 + d; p++; }
        exp10 = -(int64_t)(p - q);
        ndigits += p - q;
    }
    if (ndigits == 0) return NULL;               /* "-", ".", "e5", letters */
    if (*p == 'e' || *p == 'E') {
        p++;
        int eneg = 0;
        if (*p == '+' || *p == '-') { eneg = (*p == '-'); p++; }
        if ((unsigned)(*p - '0') >= 10) return NULL;  /* "1e", "1e+" */
        int64_t e = 0;
        while ((d = (unsigned)(*p - '0')) < 10) {
            if (e < EXP_CLAMP) e = e * 10 + d;
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    if (p != end && !is_space(*p)) return NULL;  /* anything glued to the number */

    double v;
    if (ndigits <= 19 && mant == 0) {
        v = 0.0;                                 /* 0, 0.000, 0e999 */
    } else if (ndigits <= 19 && mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        v = (double)mant;                        /* exact */
        v = exp10 >= 0 ? v * POW10[exp10] : v / POW10[-exp10];
    } else {
        /* float()'s own correctly rounded conversion, on a NUL-terminated copy */
        char buf[MAX_SLOW_TOKEN + 1];
        char *stop = NULL;
        Py_ssize_t len = p - s;
        if (len > MAX_SLOW_TOKEN) return NULL;
        memcpy(buf, s, (size_t)len);
        buf[len] = '\0';
        v = PyOS_string_to_double(buf, &stop, NULL);
        if (PyErr_Occurred()) { PyErr_Clear(); return NULL; }
        if (stop != buf + len || !isfinite(v)) return NULL;
        *out = v;                                /* the sign was in the text */
        return p;
    }
    *out = neg ? -v : v;
    return p;
}

/* The token s[0:stop-s] as an integer when it is digits only and below 2^63, else -1 (count
 * lines and 64-bit body ids then need no second look at the text on the Python side). */
static int64_t plain_integer(const unsigned char *s, const unsigned char *stop) {
    int64_t v = 0;
    for (; s < stop; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (d >= 10 || v > (INT64_MAX - (int64_t)d) / 10) return -1;
        v = v * 10 + (int64_t)d;
    }
    return v;
}

/* A growable array of fixed-size items kept in a bytearray, which becomes the result as is
 * (no copy at the end; numpy.frombuffer wraps it on the Python side). */
typedef struct {
    PyObject *obj;
    char *data;
    Py_ssize_t len, cap, item;
} Vec;

static int vec_init(Vec *v, Py_ssize_t item, Py_ssize_t cap) {
    v->obj = PyByteArray_FromStringAndSize(NULL, cap * item);
    v->data = v->obj ? PyByteArray_AS_STRING(v->obj) : NULL;
    v->len = 0;
    v->cap = cap;
    v->item = item;
    return v->obj != NULL;
}

/* Make room for one more item (doubling the capacity); 0 on failure, with an exception set. */
static int vec_grow(Vec *v) {
    if (v->cap > PY_SSIZE_T_MAX / 2 / v->item) { PyErr_NoMemory(); return 0; }
    if (PyByteArray_Resize(v->obj, 2 * v->cap * v->item) < 0) return 0;
    v->data = PyByteArray_AS_STRING(v->obj);
    v->cap *= 2;
    return 1;
}

/* Typed appends: a constant-size store each (a generic memcpy per number would cost a call). */
#define VEC_PUSH(name, type)                                              \
    static inline int name(Vec *v, type x) {                              \
        if (v->len == v->cap && !vec_grow(v)) return 0;                   \
        ((type *)v->data)[v->len++] = x;                                  \
        return 1;                                                         \
    }
VEC_PUSH(push_double, double)
VEC_PUSH(push_ssize, Py_ssize_t)
VEC_PUSH(push_int64, int64_t)

/* The filled part as a bytearray (a new reference), or NULL with an exception set. */
static PyObject *vec_finish(Vec *v) {
    if (PyByteArray_Resize(v->obj, v->len * v->item) < 0) return NULL;
    PyObject *obj = v->obj;
    v->obj = NULL;
    return obj;
}

static PyObject *tokenize(PyObject *self, PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "tokenize() expects bytes");
        return NULL;
    }
    /* a bytes object's buffer always ends with a '\0' after its n bytes */
    const unsigned char *buf = (const unsigned char *)PyBytes_AS_STRING(arg);
    const Py_ssize_t n = PyBytes_GET_SIZE(arg);

    /* first guesses, doubled as needed: NTU files hold ~9 bytes per number, ~100 per line */
    Vec values = {NULL}, ntok = {NULL}, start = {NULL}, first = {NULL};
    PyObject *result = NULL;
    Py_ssize_t line = 0, count = 0, bad = -1;
    int64_t first_int = -1;                      /* the current line's leading integer */
    int ok = vec_init(&values, sizeof(double), n / 8 + 16)
             && vec_init(&ntok, sizeof(Py_ssize_t), n / 64 + 16)
             && vec_init(&start, sizeof(Py_ssize_t), n / 64 + 16)
             && vec_init(&first, sizeof(int64_t), n / 64 + 16)
             && push_ssize(&start, 0);

    Py_ssize_t i = 0;
    while (ok && i < n) {
        unsigned char c = buf[i];
        if (c == '\n') {                         /* end of line: close it, open the next */
            ok = push_ssize(&ntok, count) && push_ssize(&start, i + 1)
                 && push_int64(&first, first_int);
            count = 0;
            first_int = -1;
            line++;
            i++;
        } else if (is_space(c)) {
            i++;
        } else {                                 /* a token runs to the next whitespace */
            double v;
            const unsigned char *stop = parse_number(buf + i, buf + n, &v);
            if (stop == NULL) { bad = line; break; }
            if (count == 0) first_int = plain_integer(buf + i, stop);
            ok = push_double(&values, v);
            count++;
            i = stop - buf;
        }
    }
    if (ok && bad < 0)                           /* the last line (no '\n' after it) */
        ok = push_ssize(&ntok, count) && push_int64(&first, first_int);

    if (!ok) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
    } else if (bad >= 0) {
        result = Py_BuildValue("(OOOOn)", Py_None, Py_None, Py_None, Py_None, bad);
    } else {
        PyObject *pv = vec_finish(&values), *pn = vec_finish(&ntok), *ps = vec_finish(&start),
                 *pf = vec_finish(&first);
        if (pv && pn && ps && pf)
            result = Py_BuildValue("(NNNNn)", pv, pn, ps, pf, (Py_ssize_t)-1);
        else { Py_XDECREF(pv); Py_XDECREF(pn); Py_XDECREF(ps); Py_XDECREF(pf); }
    }
    Py_XDECREF(values.obj);
    Py_XDECREF(ntok.obj);
    Py_XDECREF(start.obj);
    Py_XDECREF(first.obj);
    return result;
}

static PyMethodDef methods[] = {
    {"tokenize", tokenize, METH_O,
     "tokenize(data: bytes) -> (values, line_ntok, line_start, line_int, bad_line): see the\n"
     "comment at the top of stream/_fastparse.c."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "skelzs.stream._fastparse",
    "C tokenizer of the NTU .skeleton reader (optional; skelzs.stream.ntu falls back to numpy).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__fastparse(void) {
    return PyModule_Create(&module);
}
