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
 * itself: reconnects, corrupt counts), warnings LOG_DEBUG; at most 20 lines
 * per 10 s window, then one "suppressed" note. */
static pthread_mutex_t av_lock = PTHREAD_MUTEX_INITIALIZER;

static void av_cb_locked(void *avcl, int avlevel, const char *fmt, va_list ap)
{
	static int line_start = 1, count;
	static time_t window;
	static char pending[1024];
	static size_t plen;
	int prio;
	if (avlevel > AV_LOG_WARNING)
		return;
	prio = avlevel <= AV_LOG_ERROR ? LOG_INFO : LOG_DEBUG;
	if (prio > level)
		return;
	/* av_log calls come in fragments; assemble lines under av_lock. */
	char frag[512];
	vsnprintf(frag, sizeof frag, fmt, ap);
	if (line_start) {
		plen = 0;
		const char *cls = avcl ? (*(AVClass **)avcl)->item_name(avcl) : NULL;
		if (cls)
			plen = snprintf(pending, sizeof pending, "ffmpeg[%s]: ", cls);
		else
			plen = snprintf(pending, sizeof pending, "ffmpeg: ");
	}
	size_t fl = strlen(frag);
	if (plen + fl >= sizeof pending)
		fl = sizeof pending - plen - 1;
	memcpy(pending + plen, frag, fl);
	plen += fl;
	pending[plen] = 0;
	line_start = plen > 0 && pending[plen - 1] == '\n';
	if (!line_start)
		return;
	time_t now = time(NULL);
	if (now - window >= 10) {
		if (count > 20)
			log_msg(LOG_INFO, "ffmpeg: %d messages suppressed", count - 20);
		window = now;
		count = 0;
	}
	if (++count <= 20)
		log_msg(prio, "%s", pending);
}

static void av_cb(void *avcl, int avlevel, const char *fmt, va_list ap)
{
	if (avlevel > AV_LOG_WARNING || (avlevel <= AV_LOG_ERROR ? LOG_INFO : LOG_DEBUG) > level)
		return;
	pthread_mutex_lock(&av_lock);
	av_cb_locked(avcl, avlevel, fmt, ap);
	pthread_mutex_unlock(&av_lock);
}

void log_capture_ffmpeg(void)
{
	av_log_set_callback(av_cb);
}
