/* The floor for bench/backends_bench.py: the same HTTP request N times over one kept-alive
 * connection, each reply read to its end (Content-Length), nothing else done.
 *
 *   http_baseline PORT PATH BODY_FILE N    prints the mean seconds per request
 *
 * One request is made first and not counted (connection set-up and the server's first
 * response). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void fail(const char *what) { perror(what); exit(1); }

static void send_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t sent = write(fd, data, length);
        if (sent <= 0) fail("write");
        data += sent;
        length -= (size_t)sent;
    }
}

/* Reads one response: the head up to the blank line, then Content-Length bytes of body. */
static void read_response(int fd, char *buffer, size_t capacity) {
    size_t used = 0;
    char *end = NULL;
    while (!end) {
        ssize_t got = read(fd, buffer + used, capacity - used - 1);
        if (got <= 0) fail("read head");
        used += (size_t)got;
        buffer[used] = 0;
        end = strstr(buffer, "\r\n\r\n");
    }
    size_t head = (size_t)(end - buffer) + 4;
    char *field = strcasestr(buffer, "\r\ncontent-length:");
    if (!field || field > end) { fprintf(stderr, "no Content-Length\n"); exit(1); }
    size_t body = strtoul(field + 17, NULL, 10);
    size_t have = used - head;
    while (have < body) {
        ssize_t got = read(fd, buffer, capacity);
        if (got <= 0) fail("read body");
        have += (size_t)got;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s PORT PATH BODY_FILE N\n", argv[0]); return 2; }
    FILE *file = fopen(argv[3], "rb");
    if (!file) fail("body file");
    static char body[1 << 20];
    size_t body_length = fread(body, 1, sizeof body, file);
    fclose(file);
    static char request[(1 << 20) + 1024];
    int request_length = snprintf(request, 1024,
        "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
        "Content-Length: %zu\r\n\r\n", argv[2], argv[1], body_length);
    memcpy(request + request_length, body, body_length);
    request_length += (int)body_length;

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) fail("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static char response[1 << 20];
    send_all(fd, request, (size_t)request_length);
    read_response(fd, response, sizeof response);

    long count = atol(argv[4]);
    struct timespec start, stop;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < count; i++) {
        send_all(fd, request, (size_t)request_length);
        read_response(fd, response, sizeof response);
    }
    clock_gettime(CLOCK_MONOTONIC, &stop);
    printf("%.9f\n", ((double)(stop.tv_sec - start.tv_sec) + (double)(stop.tv_nsec - start.tv_nsec) / 1e9) / (double)count);
    close(fd);
    return 0;
}
