/*
 * test_log.c — daemon/log.c: lines on stderr with their "<N>" priority,
 * and FFmpeg's log routed through it (log_capture_ffmpeg): fragments of one
 * av_log line put together, lines longer than the buffer cut with "..." and
 * still ended where FFmpeg ends them (two of them once silenced it for
 * good), eight threads logging in fragments at once without their pieces
 * mixing, the rate limit. Each case runs in a child process with stderr in
 * a file (the limiter's window is per process).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "check.h"
#include "log.h"

static const AVClass test_class = {
	.class_name = "demuxer",
	.item_name = av_default_item_name,
	.version = LIBAVUTIL_VERSION_INT,
};
static const AVClass *test_ctx = &test_class;

/* Run fn in a child with stderr in a file; its text in out (malloc'd). */
static int captured(void (*fn)(void), char **out)
{
	char path[] = "/tmp/lmdd-test-log.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd, STDERR_FILENO);
		log_capture_ffmpeg();
		fn();
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	FILE *f = fopen(path, "r");
	unlink(path);
	close(fd);
	if (!f)
		return -1;
	*out = calloc(1, 1 << 20);
	size_t n = *out ? fread(*out, 1, (1 << 20) - 1, f) : 0;
	(void)n;
	fclose(f);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void own_lines(void)
{
	log_set_level(LOG_INFO);
	log_err("one %d", 1);
	log_info("two\n");
	log_debug("not shown");
}

TEST(own_lines)
{
	char *t = NULL;
	REQUIRE(captured(own_lines, &t) == 0 && t, "child");
	CHECK(!strcmp(t, "<3>one 1\n<6>two\n"), "got [%s]", t);
	free(t);
}

static void long_lines(void)
{
	char big[1500];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	av_log(&test_ctx, AV_LOG_ERROR, "first: %s\n", big);
	av_log(&test_ctx, AV_LOG_ERROR, "second: %s", big);
	av_log(&test_ctx, AV_LOG_ERROR, "%s\n", " (its end)");
	av_log(NULL, AV_LOG_ERROR, "after the long ones ");
	av_log(NULL, AV_LOG_ERROR, "in %d fragments\n", 2);
	av_log(NULL, AV_LOG_ERROR, "two lines\nin one call\n");
	av_log(NULL, AV_LOG_DEBUG, "below the level\n");
}

TEST(ffmpeg_long_lines)
{
	char *t = NULL;
	REQUIRE(captured(long_lines, &t) == 0 && t, "child");
	CHECK(count_lines(t, "<6>ffmpeg[demuxer]: first: xxx") == 1, "first line: [%.200s]", t);
	CHECK(count_lines(t, "<6>ffmpeg[demuxer]: second: xxx") == 1, "second line: [%.200s]", t);
	CHECK(count_lines(t, "xxx...\n") == 2, "cut lines end with ... and a newline");
	CHECK(!strstr(t, "its end"), "the cut part is dropped");
	CHECK(strstr(t, "\n<6>ffmpeg: after the long ones in 2 fragments\n") != NULL,
	      "a line after two long ones: [%s]", strrchr(t, '.') ? strrchr(t, '.') : t);
	CHECK(strstr(t, "\n<6>ffmpeg: two lines\n<6>ffmpeg: in one call\n") != NULL, "two lines in one call");
	CHECK(!strstr(t, "below the level"), "debug at level info");
	for (const char *l = t, *e; (e = strchr(l, '\n')); l = e + 1)
		CHECK(e - l < 1100, "a line of %d chars", (int)(e - l));
	free(t);
}

static pthread_barrier_t go;

static void *fragments(void *arg)
{
	int id = (int)(intptr_t)arg;
	pthread_barrier_wait(&go);
	for (int i = 0; i < 2; i++) {
		av_log(&test_ctx, AV_LOG_ERROR, "thread %d part A ", id);
		usleep(2000);   /* the others' fragments arrive in between */
		av_log(&test_ctx, AV_LOG_ERROR, "part B of %d\n", id);
		usleep(1000);
	}
	return NULL;
}

static void threads(void)
{
	pthread_t th[8];
	pthread_barrier_init(&go, NULL, 8);
	for (intptr_t i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, fragments, (void *)i);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 30; i++)   /* past the limit of 20 lines in 10 s */
		av_log(NULL, AV_LOG_ERROR, "more %d\n", i);
}

TEST(ffmpeg_threads)
{
	char *t = NULL;
	REQUIRE(captured(threads, &t) == 0 && t, "child");
	int whole = 0, lines = 0;
	for (char *l = t, *e; *l && (e = strchr(l, '\n')); l = e + 1) {
		*e = 0;
		int a, b;
		char tail;
		lines++;
		if (sscanf(l, "<6>ffmpeg[demuxer]: thread %d part A part B of %d%c", &a, &b, &tail) == 2 && a == b)
			whole++;
		else if (strncmp(l, "<6>ffmpeg: more ", 16))
			CHECK(0, "a mixed line: [%s]", l);
	}
	CHECK(whole == 16, "%d whole lines of 16", whole);
	CHECK(lines == 20, "%d lines shown, the limit is 20", lines);
	free(t);
}

int main(void)
{
	RUN(own_lines);
	RUN(ffmpeg_long_lines);
	RUN(ffmpeg_threads);
	CHECK_EXIT();
}
