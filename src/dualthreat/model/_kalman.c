/*
 * _kalman: the fast path of the threat model's log-likelihood (dualthreat/model/threat.py).
 *
 * loglike_monthly() is LevelTransient._loglike_monthly written in C, operation for operation in the same order,
 * so that both give the same number (tests/test_threat_model.py compares them): the filter of a level plus
 * an AR(1) transient (two states), every column monthly, Gaussian columns updated exactly, count columns
 * (a Poisson log-rate on the state) by the Laplace approximation found with a damped Newton search. The
 * maximum-likelihood search calls it hundreds of times per component and per as-of fit; in Python the loop
 * over months and observations is what the rolling-origin evaluation spends its time on.
 *
 * Arguments: q, phi, k (the level's variance, the transient's persistence and variance), prior_var, the
 * Newton steps, then buffers of float64: y (T x n, row major, NaN = no observation), signs, alpha (count
 * columns' log-rate offsets), r (Gaussian columns' observation variances), and counts (n bytes, 1 = count).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

static int get(PyObject *obj, Py_buffer *view, Py_ssize_t items, Py_ssize_t size, const char *name) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (view->len != items * size) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, expected %zd", name, view->len, items * size);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/*
 * A count observation y with log-rate offset al on a state whose prediction is m with variance F: the Laplace
 * approximation at the posterior mode z (a damped Newton search). Returns the log-likelihood term and sets the
 * Gaussian pseudo-observation (value, with variance S - F) that gives the same update.
 */
static double count_update(double y, double al, double m, double F, int newton, double *value, double *S) {
    double z = m, lam, step;
    for (int s = 0; s < newton; s++) {
        lam = exp(fmin(al + z, 30.0));
        step = (y - lam - (z - m) / F) / (lam + 1.0 / F);
        step = step > 5.0 ? 5.0 : (step < -5.0 ? -5.0 : step);
        z += step;
        if (-1e-10 < step && step < 1e-10) break;
    }
    lam = exp(fmin(al + z, 30.0));
    double post = 1.0 / (lam + 1.0 / F);
    *value = z + (y - lam) / lam;
    *S = F + 1.0 / lam;
    return y * (al + z) - lam - lgamma(y + 1.0) - pow(z - m, 2.0) / (2 * F) - 0.5 * log(F) + 0.5 * log(post);
}

static PyObject *loglike_monthly(PyObject *self, PyObject *args) {
    double q, phi, k, prior_var;
    int newton;
    Py_ssize_t T, n;
    PyObject *oy, *osg, *oal, *or, *oc;
    if (!PyArg_ParseTuple(args, "ddddinnOOOOO", &q, &phi, &k, &prior_var, &newton, &T, &n, &oy, &osg, &oal, &or,
                          &oc))
        return NULL;
    Py_buffer by, bs, ba, br, bc;
    if (get(oy, &by, T * n, sizeof(double), "y") < 0) return NULL;
    if (get(osg, &bs, n, sizeof(double), "signs") < 0) { PyBuffer_Release(&by); return NULL; }
    if (get(oal, &ba, n, sizeof(double), "alpha") < 0) { PyBuffer_Release(&by); PyBuffer_Release(&bs); return NULL; }
    if (get(or, &br, n, sizeof(double), "r") < 0) {
        PyBuffer_Release(&by); PyBuffer_Release(&bs); PyBuffer_Release(&ba); return NULL;
    }
    if (get(oc, &bc, n, 1, "counts") < 0) {
        PyBuffer_Release(&by); PyBuffer_Release(&bs); PyBuffer_Release(&ba); PyBuffer_Release(&br); return NULL;
    }
    const double *y_all = by.buf, *signs = bs.buf, *alpha = ba.buf, *r = br.buf;
    const unsigned char *counts = bc.buf;
    double a0 = 0.0, a1 = 0.0;
    double p00 = prior_var + 1e-9, p01 = 0.0, p11 = prior_var + 1e-9;
    double ll = 0.0;
    const double two_pi = 2.0 * M_PI;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t t = 0; t < T; t++) {
        if (t > 0) {
            a1 *= phi;
            double n00 = p00 + q, n01 = phi * p01, n11 = phi * phi * p11 + k;
            p00 = n00; p01 = n01; p11 = n11;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            double y = y_all[t * n + i];
            if (y != y) continue;
            double sg = signs[i];
            double h0 = sg * (p00 + p01);
            double h1 = sg * (p01 + p11);
            double F = sg * (h0 + h1);
            double m = sg * (a0 + a1);
            double value, S;
            if (counts[i]) {
                ll += count_update(y, alpha[i], m, F, newton, &value, &S);
            } else {
                value = y;
                S = F + r[i];
                ll += -0.5 * (log(two_pi * S) + pow(y - m, 2.0) / S);
            }
            double k0 = h0 / S, k1 = h1 / S;
            double v = value - m;
            a0 = a0 + k0 * v;
            a1 = a1 + k1 * v;
            double n00 = p00 - k0 * h0, n01 = p01 - k0 * h1, n11 = p11 - k1 * h1;
            p00 = n00; p01 = n01; p11 = n11;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&by); PyBuffer_Release(&bs); PyBuffer_Release(&ba); PyBuffer_Release(&br); PyBuffer_Release(&bc);
    return PyFloat_FromDouble(ll);
}


/*
 * loglike_general(): the same for a model with lagged states (an annual or fiscal-year column averages its
 * months: d = 1 + the longest period), LevelTransient.filter without tracking. The transition is the model's
 * (mu stays, c decays by phi, x_{t-1} = mu + c, the older months shift down), applied as numpy's tr @ a and
 * tr @ P @ tr.T would (every entry of those products has at most two non-zero terms, so the order is
 * immaterial); the update's P h and h'P h are plain loops, whose rounding may differ from the BLAS in the last
 * bits. Extra arguments: d, design (n x d) and the prior covariance (d x d), float64, row major.
 */
static PyObject *loglike_general(PyObject *self, PyObject *args) {
    double q, phi, k;
    int newton;
    Py_ssize_t T, n, d;
    PyObject *oy, *osg, *oal, *or, *oc, *oh, *op;
    if (!PyArg_ParseTuple(args, "dddinnnOOOOOOO", &q, &phi, &k, &newton, &T, &n, &d, &oy, &osg, &oal, &or, &oc,
                          &oh, &op))
        return NULL;
    if (d < 3 || d > 64) {
        PyErr_Format(PyExc_ValueError, "d: %zd states, expected 3 to 64 (two states: loglike_monthly)", d);
        return NULL;
    }
    Py_buffer b[7];
    PyObject *objs[7] = {oy, osg, oal, or, oc, oh, op};
    const Py_ssize_t items[7] = {T * n, n, n, n, n, n * d, d * d};
    const Py_ssize_t sizes[7] = {8, 8, 8, 8, 1, 8, 8};
    const char *names[7] = {"y", "signs", "alpha", "r", "counts", "design", "prior_cov"};
    for (int j = 0; j < 7; j++) {
        if (get(objs[j], &b[j], items[j], sizes[j], names[j]) < 0) {
            for (int i = 0; i < j; i++) PyBuffer_Release(&b[i]);
            return NULL;
        }
    }
    const double *y_all = b[0].buf, *signs = b[1].buf, *alpha = b[2].buf, *r = b[3].buf, *design = b[5].buf,
                 *prior = b[6].buf;
    const unsigned char *counts = b[4].buf;
    double a[64], P[64 * 64], M[64 * 64], Ph[64], na[64];
    for (Py_ssize_t i = 0; i < d; i++) {
        a[i] = 0.0;
        for (Py_ssize_t j = 0; j < d; j++) P[i * d + j] = prior[i * d + j] + (i == j ? 1e-9 : 0.0);
    }
    double ll = 0.0;
    const double two_pi = 2.0 * M_PI;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t t = 0; t < T; t++) {
        if (t > 0) {
            /* a = tr a */
            na[0] = a[0];
            na[1] = phi * a[1];
            na[2] = a[0] + a[1];
            for (Py_ssize_t j = 3; j < d; j++) na[j] = a[j - 1];
            for (Py_ssize_t j = 0; j < d; j++) a[j] = na[j];
            /* M = tr P (rows), then P = M tr' (columns, the same combination) */
            for (Py_ssize_t j = 0; j < d; j++) {
                M[0 * d + j] = P[0 * d + j];
                M[1 * d + j] = phi * P[1 * d + j];
                M[2 * d + j] = P[0 * d + j] + P[1 * d + j];
                for (Py_ssize_t i = 3; i < d; i++) M[i * d + j] = P[(i - 1) * d + j];
            }
            for (Py_ssize_t i = 0; i < d; i++) {
                P[i * d + 0] = M[i * d + 0];
                P[i * d + 1] = M[i * d + 1] * phi;
                P[i * d + 2] = M[i * d + 0] + M[i * d + 1];
                for (Py_ssize_t j = 3; j < d; j++) P[i * d + j] = M[i * d + j - 1];
            }
            P[0] += q;
            P[d + 1] += k;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            double y = y_all[t * n + i];
            if (y != y) continue;
            double F, m, value, S;
            if (counts[i]) {
                double sg = signs[i];
                for (Py_ssize_t j = 0; j < d; j++) Ph[j] = sg * (P[j * d + 0] + P[j * d + 1]);
                F = sg * (Ph[0] + Ph[1]);
                m = sg * (a[0] + a[1]);
                ll += count_update(y, alpha[i], m, F, newton, &value, &S);
            } else {
                const double *h = design + i * d;
                F = 0.0;
                m = 0.0;
                for (Py_ssize_t j = 0; j < d; j++) {
                    double acc = 0.0;
                    for (Py_ssize_t l = 0; l < d; l++) acc += P[j * d + l] * h[l];
                    Ph[j] = acc;
                }
                for (Py_ssize_t j = 0; j < d; j++) {
                    F += h[j] * Ph[j];
                    m += h[j] * a[j];
                }
                value = y;
                S = F + r[i];
                ll += -0.5 * (log(two_pi * S) + pow(y - m, 2.0) / S);
            }
            double v = value - m;
            for (Py_ssize_t j = 0; j < d; j++) a[j] = a[j] + (Ph[j] / S) * v;
            for (Py_ssize_t j = 0; j < d; j++) {
                double K = Ph[j] / S;
                for (Py_ssize_t l = 0; l < d; l++) P[j * d + l] = P[j * d + l] - K * Ph[l];
            }
        }
    }
    Py_END_ALLOW_THREADS
    for (int j = 0; j < 7; j++) PyBuffer_Release(&b[j]);
    return PyFloat_FromDouble(ll);
}

static PyMethodDef methods[] = {
    {"loglike_monthly", loglike_monthly, METH_VARARGS,
     "loglike_monthly(q, phi, k, prior_var, newton_steps, T, n, y, signs, alpha, r, counts) -> float"},
    {"loglike_general", loglike_general, METH_VARARGS,
     "loglike_general(q, phi, k, newton_steps, T, n, d, y, signs, alpha, r, counts, design, prior_cov) -> float"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kalman",
                                    "The fast path of the threat model's log-likelihood.", -1, methods};

PyMODINIT_FUNC PyInit__kalman(void) { return PyModule_Create(&module); }
