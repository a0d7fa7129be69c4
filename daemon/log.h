/*
 * log.h — logging for the daemon: one line per message on stderr, prefixed
 * with the syslog priority in sd-daemon form ("<3>" = SD_ERR), which
 * journald strips and stores as the entry's priority. Thread-safe; messages
 * above the configured level are dropped. FFmpeg's own log output is routed
 * through here at reduced priority and rate-limited (a damaged stream can
 * produce thousands of decoder complaints a second).
 */
#ifndef LMDD_LOG_H
#define LMDD_LOG_H
#include <syslog.h>   /* LOG_ERR ... LOG_DEBUG (same numbers as SD_ERR ...) */

/* Parse "err|error|warning|notice|info|debug" (or 0-7); -1 if unknown. */
int log_level_parse(const char *s);
void log_set_level(int level);
int log_get_level(void);
/* Route av_log() through log_msg (level: FFmpeg messages at or above
 * AV_LOG_ERROR become LOG_DEBUG+... see log.c). */
void log_capture_ffmpeg(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#endif
