/*
 * log.c — see log.h. The priority prefix follows sd-daemon(3): systemd's
 * journal (and `systemd-cat`) parse "<N>" at the start of each stderr line
 * when SyslogLevelPrefix=yes (the default). Each message is formatted into
 * one buffer and written with a single write(2) so lines from threads never
 * interleave.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "log.h"

static atomic_int level = LOG_INFO;   /* set by the main thread, read by all */

int log_level_parse(const char *s)
{
	static const struct { const char *n; int l; } t[] = {
		{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
		{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "warn", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	if (!s)
		return -1;
	if (s[0] >= '0' && s[0] <= '7' && !s[1])
		return s[0] - '0';
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcasecmp(s, t[i].n))
			return t[i].l;
	return -1;
}

void log_set_level(int l) { level = l; }
int log_get_level(void) { return level; }

static void vlog(int prio, const char *fmt, va_list ap)
{
	char buf[2048];
	int n = snprintf(buf, sizeof buf, "<%d>", prio);
	int m = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	while (n > 3 && buf[n - 1] == '\n')
		n--;
	buf[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, n);
	(void)w;
}

void log_msg(int prio, const char *fmt, ...)
{
	if (prio > level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

/* FFmpeg messages: errors become LOG_INFO (the daemon logs what matters
 * itself: reconnects, corrupt counts), warnings LOG_DEBUG. av_log() calls
 * come in fragments, a newline ending the line; every thread assembles its
 * own line (each stream decodes on a thread of its own, so fragments of two
 * streams never mix). A line longer than AV_LINE is cut there, marked with
 * "...", and still ends where FFmpeg ends it. At most 20 lines per 10 s
 * window from all threads together, then one "suppressed" note. */
#define AV_LINE 1024

static _Thread_local char av_line[AV_LINE];
static _Thread_local size_t av_len;    /* chars held; 0 = at the start of a line */
static _Thread_local int av_prio, av_cut;

static pthread_mutex_t av_lock = PTHREAD_MUTEX_INITIALIZER;   /* the rate window */

static void av_emit(void)
{
	static int count;
	static time_t window;
	time_t now = time(NULL);
	int suppressed = 0, show;
	pthread_mutex_lock(&av_lock);
	if (now - window >= 10) {
		suppressed = count > 20 ? count - 20 : 0;
		window = now;
		count = 0;
	}
	show = ++count <= 20;
	pthread_mutex_unlock(&av_lock);
	if (suppressed)
		log_msg(LOG_INFO, "ffmpeg: %d messages suppressed", suppressed);
	if (show)
		log_msg(av_prio, "%.*s%s", (int)av_len, av_line, av_cut ? "..." : "");
	av_len = 0;
	av_cut = 0;
}

/* text (n chars) onto this thread's line; each newline ends one */
static void av_add(void *avcl, int prio, const char *text, size_t n)
{
	while (n) {
		if (!av_len) {
			const char *cls = avcl ? (*(AVClass **)avcl)->item_name(avcl) : NULL;
			int k = cls ? snprintf(av_line, AV_LINE, "ffmpeg[%s]: ", cls) : snprintf(av_line, AV_LINE, "ffmpeg: ");
			av_len = k > 0 && k < AV_LINE ? (size_t)k : 0;
			av_prio = prio;
		}
		const char *nl = memchr(text, '\n', n);
		size_t part = nl ? (size_t)(nl - text) : n, room = AV_LINE - 1 - av_len;
		if (part > room) {
			part = room;
			av_cut = 1;
		}
		memcpy(av_line + av_len, text, part);
		av_len += part;
		if (!nl)
			return;
		n -= (size_t)(nl - text) + 1;
		text = nl + 1;
		av_emit();
	}
}

static void av_cb(void *avcl, int avlevel, const char *fmt, va_list ap)
{
	int prio = avlevel <= AV_LOG_ERROR ? LOG_INFO : LOG_DEBUG;
	if (avlevel > AV_LOG_WARNING || prio > level)
		return;
	char buf[AV_LINE], *big = NULL;
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(buf, sizeof buf, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	const char *text = buf;
	if ((size_t)n >= sizeof buf && (big = malloc((size_t)n + 1))) {
		vsnprintf(big, (size_t)n + 1, fmt, ap);   /* all of it: its newlines count */
		text = big;
	} else if ((size_t)n >= sizeof buf) {
		n = sizeof buf - 1;                        /* cut; the line ends as fmt does */
		if (*fmt && fmt[strlen(fmt) - 1] == '\n')
			buf[n - 1] = '\n';
	}
	av_add(avcl, prio, text, (size_t)n);
	free(big);
}

void log_capture_ffmpeg(void)
{
	av_log_set_callback(av_cb);
}
