/*
 * delay: holds every packet of an NFQUEUE queue for a fixed time, then accepts it.
 * The kernel here has no sch_netem, so `tc netem delay` is not available; this is the same fault
 * done in user space: iptables sends the processor's packets to the queue
 * (`-j NFQUEUE --queue-num N --queue-bypass`), this program releases each one DELAY ms later, in
 * order. Run inside the namespace whose packets it delays: `ip netns exec NS delay N DELAY_MS`.
 * Built by faults/net/delay.ts with `gcc delay.c -lnetfilter_queue` (Debian: libnetfilter-queue-dev).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define CAPACITY 65536

static uint32_t ids[CAPACITY];
static int64_t due[CAPACITY];
static size_t head, tail;
static int64_t delay_ms;
static volatile sig_atomic_t stopping;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg;
  (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id);
  if (tail - head >= CAPACITY) return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
  ids[tail % CAPACITY] = id;
  due[tail % CAPACITY] = now_ms() + delay_ms;
  tail++;
  return 0;
}

static void release_due(struct nfq_q_handle *qh, int all) {
  int64_t now = now_ms();
  while (head < tail && (all || due[head % CAPACITY] <= now)) {
    nfq_set_verdict(qh, ids[head % CAPACITY], NF_ACCEPT, 0, NULL);
    head++;
  }
}

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: delay QUEUE_NUM DELAY_MS\n");
    return 2;
  }
  uint16_t queue = (uint16_t)atoi(argv[1]);
  delay_ms = atoll(argv[2]);
  struct nfq_handle *h = nfq_open();
  if (!h) { perror("nfq_open"); return 1; }
  struct nfq_q_handle *qh = nfq_create_queue(h, queue, &on_packet, NULL);
  if (!qh) { perror("nfq_create_queue"); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
  nfq_set_queue_maxlen(qh, CAPACITY);
  int fd = nfq_fd(h);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  printf("delay: queue %u, %lld ms\n", queue, (long long)delay_ms);
  fflush(stdout);
  char buf[65536];
  while (!stopping) {
    int timeout = -1;
    if (head < tail) {
      int64_t wait = due[head % CAPACITY] - now_ms();
      timeout = wait < 0 ? 0 : (int)wait;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, timeout);
    if (ready > 0) {
      int n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) nfq_handle_packet(h, buf, n);
      else if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR) { perror("recv"); break; }
    }
    release_due(qh, 0);
  }
  release_due(qh, 1);
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
