/*
 * test_media.c — media/media.c on real inputs: a shipped Ped2 clip
 * (samples/ped2-12.mkv: 85 frames, MJPEG in MKV, 10 fps; run from the checkout's root),
 * PNG/JPEG images made with the ffmpeg CLI, a lavfi source, a truncated file,
 * a file with a corrupted byte range, garbage, a missing file, a server that
 * accepts but never answers (timeout) and the stop flag.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/frame.h>

#include "check.h"
#include "media.h"

#define PED2 "samples/ped2-12.mkv"   /* the first 85 frames of Ped2 test clip 12 */

static char tmpdir[256];

static int sh(const char *cmd)
{
	int r = system(cmd);
	return r;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

TEST(ped2_clip_gray_resized)
{
	lmd_media_opts o = { .width = 180, .height = 120, .channels = 1 };
	lmd_media *m = NULL;
	media_err e = lmd_media_open(PED2, &o, &m);
	REQUIRE(e == MEDIA_OK, "open: %s", media_errmsg());
	CHECK(lmd_media_width(m) == 180 && lmd_media_height(m) == 120, "size %dx%d",
	      lmd_media_width(m), lmd_media_height(m));
	CHECK(fabs(lmd_media_fps(m) - 10.0) < 0.01, "fps %g", lmd_media_fps(m));
	CHECK(lmd_media_last_u8(m) == NULL, "u8 before first frame");
	float *buf = malloc(sizeof(float) * 180 * 120);
	lmd_frame_info fi;
	int n = 0, bad_range = 0, mono = 1;
	int64_t prev = INT64_MIN;
	double mean0 = 0;
	while ((e = lmd_media_read(m, buf, &fi)) == MEDIA_OK) {
		for (int i = 0; i < 180 * 120; i++)
			if (!(buf[i] >= 0.f && buf[i] <= 1.f))
				bad_range++;
		if (n == 0) {
			for (int i = 0; i < 180 * 120; i++)
				mean0 += buf[i];
			mean0 /= 180 * 120;
			CHECK(fi.src_width == 360 && fi.src_height == 240, "src %dx%d", fi.src_width,
			      fi.src_height);
		}
		if (fi.pts_us == INT64_MIN || fi.pts_us <= prev)
			mono = 0;
		CHECK(fi.index == n, "index %lld != %d", (long long)fi.index, n);
		prev = fi.pts_us;
		n++;
	}
	CHECK(n == 85, "frames %d, want 85", n);
	CHECK(lmd_media_at_eof(m), "not at EOF: %s", media_errmsg());
	CHECK(!strcmp(media_errmsg(), "end of stream"), "errmsg '%s'", media_errmsg());
	CHECK(bad_range == 0, "%d values outside [0,1]", bad_range);
	CHECK(mono, "pts not increasing");
	CHECK(prev == 8400000, "last pts %lld us", (long long)prev);
	CHECK(mean0 > 0.2 && mean0 < 0.8, "mean of frame 0: %g", mean0);
	CHECK(lmd_media_corrupt(m) == 0, "corrupt %lld", (long long)lmd_media_corrupt(m));
	CHECK(lmd_media_last_u8(m) != NULL, "no u8");
	const struct AVFrame *lf = lmd_media_last_frame(m);
	CHECK(lf && lf->width == 360 && lf->height == 240, "last frame");
	CHECK(!strcmp(lmd_media_hwaccel(m), "none"), "hw %s", lmd_media_hwaccel(m));
	/* reading past the end keeps saying so */
	CHECK(lmd_media_read(m, buf, &fi) == MEDIA_END, "read after EOF");
	lmd_media_close(&m);
	CHECK(m == NULL, "close nulls");
	lmd_media_close(&m);
	free(buf);
}

TEST(source_size_and_deferred_convert)
{
	lmd_media_opts o = { .channels = 1, .hwaccel = "auto" };  /* auto must fall back */
	lmd_media *m = NULL;
	REQUIRE(lmd_media_open(PED2, &o, &m) == MEDIA_OK, "open: %s", media_errmsg());
	CHECK(lmd_media_width(m) == 360 && lmd_media_height(m) == 240, "size %dx%d",
	      lmd_media_width(m), lmd_media_height(m));
	float *a = malloc(sizeof(float) * 360 * 240), *b = malloc(sizeof(float) * 360 * 240);
	lmd_frame_info fi;
	/* skip 3 frames without converting, then convert frame 3 two ways */
	for (int i = 0; i < 3; i++)
		CHECK(lmd_media_read(m, NULL, &fi) == MEDIA_OK, "read: %s", media_errmsg());
	CHECK(lmd_media_read(m, a, &fi) == MEDIA_OK && fi.index == 3, "read 3");
	CHECK(lmd_media_convert(m, b) == MEDIA_OK, "convert: %s", media_errmsg());
	CHECK(!memcmp(a, b, sizeof(float) * 360 * 240), "convert differs from read");
	/* the u8 copy matches the floats */
	const uint8_t *u = lmd_media_last_u8(m);
	REQUIRE(u, "u8");
	CHECK(fabsf(u[1000] / 255.f - a[1000]) < 1e-6, "u8 vs float");
	free(a);
	free(b);
	lmd_media_close(&m);
}

TEST(png_rgb_planar)
{
	char path[400], cmd[800];
	snprintf(path, sizeof path, "%s/red.png", tmpdir);
	snprintf(cmd, sizeof cmd,
	         "ffmpeg -v error -y -f lavfi -i color=c=0xFF0000:s=64x48 -frames:v 1 %s", path);
	REQUIRE(sh(cmd) == 0, "ffmpeg failed");
	lmd_media_opts o = { .width = 32, .height = 24, .channels = 3 };
	lmd_media *m = NULL;
	REQUIRE(lmd_media_open(path, &o, &m) == MEDIA_OK, "open: %s", media_errmsg());
	float *buf = malloc(sizeof(float) * 3 * 32 * 24);
	lmd_frame_info fi;
	REQUIRE(lmd_media_read(m, buf, &fi) == MEDIA_OK, "read: %s", media_errmsg());
	const int hw = 32 * 24;
	CHECK(buf[0] > 0.98f && buf[hw] < 0.02f && buf[2 * hw] < 0.02f, "rgb %g %g %g", buf[0],
	      buf[hw], buf[2 * hw]);
	CHECK(buf[hw - 1] > 0.98f && buf[2 * hw + 5] < 0.02f, "planes");
	CHECK(fi.src_width == 64 && fi.src_height == 48, "src size");
	CHECK(lmd_media_read(m, buf, &fi) == MEDIA_END && lmd_media_at_eof(m), "one image only");
	lmd_media_close(&m);
	free(buf);
}

TEST(jpeg_gray_levels)
{
	char path[400], cmd[800];
	snprintf(path, sizeof path, "%s/gray.jpg", tmpdir);
	/* a left half black, right half white JPEG */
	snprintf(cmd, sizeof cmd,
	         "ffmpeg -v error -y -f lavfi -i color=c=black:s=64x64 -f lavfi -i color=c=white:s=32x64 "
	         "-filter_complex '[0][1]overlay=32:0' -frames:v 1 -q:v 2 %s", path);
	REQUIRE(sh(cmd) == 0, "ffmpeg failed");
	lmd_media_opts o = { .width = 64, .height = 64, .channels = 1 };
	lmd_media *m = NULL;
	REQUIRE(lmd_media_open(path, &o, &m) == MEDIA_OK, "open: %s", media_errmsg());
	float *buf = malloc(sizeof(float) * 64 * 64);
	REQUIRE(lmd_media_read(m, buf, NULL) == MEDIA_OK, "read: %s", media_errmsg());
	/* full range: black ~0, white ~1 (not 16/255, 235/255) */
	CHECK(buf[32 * 64 + 5] < 0.03f, "black %g", buf[32 * 64 + 5]);
	CHECK(buf[32 * 64 + 60] > 0.97f, "white %g", buf[32 * 64 + 60]);
	lmd_media_close(&m);
	free(buf);
}

TEST(lavfi_source)
{
	lmd_media_opts o = { .width = 40, .height = 30, .channels = 3 };
	lmd_media *m = NULL;
	REQUIRE(lmd_media_open("lavfi:testsrc2=size=80x60:rate=5", &o, &m) == MEDIA_OK, "open: %s",
	        media_errmsg());
	CHECK(fabs(lmd_media_fps(m) - 5) < 0.01, "fps %g", lmd_media_fps(m));
	float *buf = malloc(sizeof(float) * 3 * 40 * 30);
	lmd_frame_info fi;
	for (int i = 0; i < 5; i++)
		CHECK(lmd_media_read(m, buf, &fi) == MEDIA_OK, "read: %s", media_errmsg());
	CHECK(fi.pts_us == 800000, "pts of frame 4: %lld", (long long)fi.pts_us);
	CHECK(!lmd_media_is_live("lavfi:testsrc") && !lmd_media_is_live("/tmp/a.mkv") &&
	      lmd_media_is_live("rtsp://h/x") && lmd_media_is_live("/dev/video0"), "is_live");
	lmd_media_close(&m);
	free(buf);
}

static int copy_prefix(const char *src, const char *dst, long keep)
{
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	if (!in || !out) {
		if (in) fclose(in);
		if (out) fclose(out);
		return -1;
	}
	char b[65536];
	long done = 0;
	size_t n;
	while ((keep < 0 || done < keep) && (n = fread(b, 1, sizeof b, in)) > 0) {
		if (keep >= 0 && done + (long)n > keep)
			n = keep - done;
		fwrite(b, 1, n, out);
		done += n;
	}
	fclose(in);
	fclose(out);
	return 0;
}

static long file_size(const char *p)
{
	FILE *f = fopen(p, "rb");
	if (!f) return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

TEST(truncated_file)
{
	char path[400];
	snprintf(path, sizeof path, "%s/trunc.mkv", tmpdir);
	REQUIRE(copy_prefix(PED2, path, file_size(PED2) / 2 + 777) == 0, "copy");
	lmd_media_opts o = { .width = 90, .height = 60, .channels = 1 };
	lmd_media *m = NULL;
	REQUIRE(lmd_media_open(path, &o, &m) == MEDIA_OK, "open: %s", media_errmsg());
	float *buf = malloc(sizeof(float) * 90 * 60);
	int n = 0;
	media_err e;
	while ((e = lmd_media_read(m, buf, NULL)) == MEDIA_OK)
		n++;
	CHECK(e == MEDIA_END || e == MEDIA_ERR_IO, "error %d", e);
	CHECK(n > 30 && n < 55, "decoded %d frames of the first half", n);
	lmd_media_close(&m);
	free(buf);
}

TEST(corrupt_byte_range_skipped_and_counted)
{
	char path[400];
	snprintf(path, sizeof path, "%s/corrupt.mkv", tmpdir);
	REQUIRE(copy_prefix(PED2, path, -1) == 0, "copy");
	long sz = file_size(path);
	FILE *f = fopen(path, "r+b");
	REQUIRE(f, "open copy");
	/* garbage in the middle of several frames */
	srand(7);
	for (int k = 1; k <= 6; k++) {
		fseek(f, sz * k / 8, SEEK_SET);
		for (int i = 0; i < 3000; i++)
			fputc(rand() & 255, f);
	}
	fclose(f);
	lmd_media_opts o = { .width = 180, .height = 120, .channels = 1 };
	lmd_media *m = NULL;
	REQUIRE(lmd_media_open(path, &o, &m) == MEDIA_OK, "open: %s", media_errmsg());
	float *buf = malloc(sizeof(float) * 180 * 120);
	int n = 0, bad = 0;
	media_err e;
	while ((e = lmd_media_read(m, buf, NULL)) == MEDIA_OK) {
		n++;
		for (int i = 0; i < 180 * 120; i++)
			if (!(buf[i] >= 0 && buf[i] <= 1))
				bad++;
	}
	fprintf(stderr, "  corrupt: %d frames decoded, %lld skipped\n", n,
	        (long long)lmd_media_corrupt(m));
	CHECK(lmd_media_at_eof(m), "did not reach EOF: %s", media_errmsg());
	CHECK(lmd_media_corrupt(m) >= 3, "corrupt count %lld", (long long)lmd_media_corrupt(m));
	CHECK(n >= 70 && n < 85, "decoded %d", n);
	CHECK(bad == 0, "bad values");
	lmd_media_close(&m);
	free(buf);
}

TEST(garbage_and_missing)
{
	char path[400];
	snprintf(path, sizeof path, "%s/garbage.mkv", tmpdir);
	FILE *f = fopen(path, "wb");
	REQUIRE(f, "create");
	srand(3);
	for (int i = 0; i < 5000; i++)
		fputc(rand() & 255, f);
	fclose(f);
	lmd_media_opts o = { .width = 16, .height = 16, .channels = 1 };
	lmd_media *m = NULL;
	media_err e = lmd_media_open(path, &o, &m);
	CHECK(e != MEDIA_OK && m == NULL, "garbage opened");
	CHECK(strstr(media_errmsg(), "garbage.mkv") != NULL, "message: %s", media_errmsg());
	e = lmd_media_open("/nonexistent/clip.mp4", &o, &m);
	CHECK(e == MEDIA_ERR_IO && strstr(media_errmsg(), "no such file"), "missing: %d %s", e,
	      media_errmsg());
	/* bad arguments */
	lmd_media_opts bad = { .width = 16, .height = 0, .channels = 1 };
	CHECK(lmd_media_open(PED2, &bad, &m) == MEDIA_ERR_ARG, "half size");
	bad = (lmd_media_opts){ .channels = 2 };
	CHECK(lmd_media_open(PED2, &bad, &m) == MEDIA_ERR_ARG, "channels 2");
	CHECK(lmd_media_open(NULL, &o, &m) == MEDIA_ERR_ARG, "NULL url");
}

/* A TCP server that accepts and then says nothing. */
static int silent_server(int *port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4) < 0)
		return -1;
	getsockname(s, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin_port);
	return s;
}

TEST(timeout_on_silent_server)
{
	int port, s = silent_server(&port);
	REQUIRE(s >= 0, "server");
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/stream.mjpg", port);
	lmd_media_opts o = { .width = 16, .height = 16, .channels = 1, .timeout_ms = 700 };
	lmd_media *m = NULL;
	double t0 = now_s();
	media_err e = lmd_media_open(url, &o, &m);
	double dt = now_s() - t0;
	CHECK(e == MEDIA_ERR_IO && m == NULL, "opened? %d", e);
	CHECK(strstr(media_errmsg(), "timeout after 700 ms") != NULL, "message: %s", media_errmsg());
	CHECK(dt > 0.6 && dt < 3.0, "took %.2f s", dt);
	close(s);
}

static atomic_int stop_flag;

static void *set_stop(void *arg)
{
	usleep(300000);
	stop_flag = 1;
	return NULL;
}

TEST(stop_flag_aborts_open)
{
	int port, s = silent_server(&port);
	REQUIRE(s >= 0, "server");
	char url[128];
	snprintf(url, sizeof url, "rtsp://127.0.0.1:%d/x", port);
	stop_flag = 0;
	lmd_media_opts o = { .width = 16, .height = 16, .channels = 1, .timeout_ms = 20000,
	                     .stop = &stop_flag };
	lmd_media *m = NULL;
	pthread_t th;
	pthread_create(&th, NULL, set_stop, NULL);
	double t0 = now_s();
	media_err e = lmd_media_open(url, &o, &m);
	double dt = now_s() - t0;
	pthread_join(th, NULL);
	CHECK(e == MEDIA_ERR_IO && m == NULL, "opened? %d", e);
	CHECK(strstr(media_errmsg(), "stopped") != NULL, "message: %s", media_errmsg());
	CHECK(dt < 2.0, "took %.2f s", dt);
	close(s);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_media.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(ped2_clip_gray_resized);
	RUN(source_size_and_deferred_convert);
	RUN(png_rgb_planar);
	RUN(jpeg_gray_levels);
	RUN(lavfi_source);
	RUN(truncated_file);
	RUN(corrupt_byte_range_skipped_and_counted);
	RUN(garbage_and_missing);
	RUN(timeout_on_silent_server);
	RUN(stop_flag_aborts_open);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	sh(cmd);
	CHECK_EXIT();
}
