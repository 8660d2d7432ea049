/*
 * River's signal handlers, for a JVM started with -Xrs: the JVM then leaves SIGQUIT, SIGTERM, SIGINT
 * and SIGHUP alone but lets Java register none of them (sun.misc.Signal refuses), and SIGQUIT is
 * River's upgrade signal. The handler only writes the signal's number to a pipe (write(2) is
 * async-signal-safe); a Java thread reads the pipe and acts outside signal context.
 */
#define _GNU_SOURCE
#include <jni.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int pipe_fds[2] = {-1, -1};
/* The signals River handles: the reading thread unblocks them for itself. A process started by a Java
   thread inherits that thread's mask, which blocks SIGQUIT (HotSpot keeps it for its own dispatcher). */
static sigset_t handled;
static volatile sig_atomic_t handled_changed;

static void on_signal(int sig) {
    int saved = errno;
    unsigned char number = (unsigned char) sig;
    /* Non-blocking: with the pipe full (a storm of signals) one is dropped rather than the handler stuck. */
    ssize_t ignored = write(pipe_fds[1], &number, 1);
    (void) ignored;
    errno = saved;
}

/* Creates the pipe once; returns 0, or -errno. */
JNIEXPORT jint JNICALL Java_river_cli_NativeSignals_open0(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    if (pipe_fds[0] >= 0) {
        return 0;
    }
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return -errno;
    }
    sigemptyset(&handled);
    if (fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK) != 0) {
        return -errno;
    }
    return 0;
}

/* Routes a signal to the pipe; returns 0, or -errno. */
JNIEXPORT jint JNICALL Java_river_cli_NativeSignals_handle0(JNIEnv *env, jclass cls, jint sig) {
    (void) env; (void) cls;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(sig, &action, NULL) != 0) {
        return -errno;
    }
    sigaddset(&handled, sig);
    handled_changed = 1;
    /* Wakes the reading thread (number 0 is no signal) so that it unblocks the new one. */
    unsigned char wake = 0;
    ssize_t ignored = write(pipe_fds[1], &wake, 1);
    (void) ignored;
    return 0;
}

/* Blocks until a signal arrives and returns its number, or -errno. */
JNIEXPORT jint JNICALL Java_river_cli_NativeSignals_next0(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    for (;;) {
        if (handled_changed) {
            handled_changed = 0;
            pthread_sigmask(SIG_UNBLOCK, &handled, NULL);
        }
        unsigned char number;
        ssize_t n = read(pipe_fds[0], &number, 1);
        if (n == 1 && number != 0) {
            return number;
        }
        if (n == 1) {
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n == 0 ? -EPIPE : -errno;
    }
}
