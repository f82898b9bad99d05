/* The Intel 82540EM (e1000) device model.
 *
 * A pure state machine driven by its caller (the VMM), no threads of its own:
 *
 *   MMIO exit on BAR0      → e1000_mmio_read() / e1000_mmio_write()
 *   I/O exit on BAR1       → e1000_io_read() / e1000_io_write() (IOADDR/IODATA)
 *   backend fd readable    → e1000_rx_poll()   (also run internally on RDT writes)
 *   timer                  → e1000_timer_expired(now) once now >= e1000_next_deadline_ns()
 *
 * All entry points take the device lock, so a vCPU thread and an I/O thread
 * may call them concurrently. Guest memory is reached only through
 * guest_mem_ptr(); the guest's descriptors are copied once and then checked.
 * See docs/e1000.md for the semantics and docs/e1000-security.md for the
 * threat model. */
#ifndef VPIO_E1000_H
#define VPIO_E1000_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dev/e1000_regs.h"
#include "net/backend.h"
#include "devif/guest_mem.h"
#include "devif/irq.h"

typedef uint64_t (*e1000_clock_fn)(void *opaque); /* monotonic nanoseconds */

struct e1000_config {
    uint8_t mac[6];
    bool mitigation;         /* false: an interrupt per event, moderation registers ignored */
    unsigned rx_backlog_max; /* frames held while the guest has no RX buffers; 0 = default 256 */
    e1000_clock_fn clock;    /* NULL = CLOCK_MONOTONIC */
    void *clock_opaque;
    /* Optional: called (with the device lock held) when the next deadline
     * changed, e.g. to wake the VMM's timer thread (io_thread_notify). */
    void (*deadline_changed)(void *opaque, uint64_t deadline_ns);
    void *deadline_opaque;
    /* Offer the CSB paravirtual extension (docs/csb.md): PCI subsystem ID
     * 0x1101 and the CSBAL/CSBAH registers. false: a plain 82540EM. The
     * --nic default is on (e1000_opts.h). */
    bool csb;
    /* Optional: called (device lock held, from the thread that wrote CSBAL
     * or CTRL.RST: a vCPU) when the guest turns the CSB on or off, e.g. to
     * bind the TDT/RDT doorbells with KVM_IOEVENTFD only while it is on
     * (src/dev/e1000_csb_kvm.c). */
    void (*csb_changed)(void *opaque, bool enabled);
    void *csb_opaque;
};

/* Register classes for the exit counters. */
enum e1000_reg_class {
    E1000_RC_CTRL,   /* CTRL, STATUS, CTRL_EXT */
    E1000_RC_EEPROM, /* EECD, EERD */
    E1000_RC_MDIC,
    E1000_RC_ICR,
    E1000_RC_IMASK, /* IMS, IMC, ICS */
    E1000_RC_ITR,
    E1000_RC_RCTL,
    E1000_RC_TCTL, /* TCTL, TIPG */
    E1000_RC_RDT,
    E1000_RC_TDT,
    E1000_RC_RING,   /* ring base/len/head, RXDCTL/TXDCTL */
    E1000_RC_DELAY,  /* RDTR, RADV, TIDV, TADV */
    E1000_RC_FILTER, /* RAL/RAH, MTA, VFTA, RXCSUM */
    E1000_RC_STATS,
    E1000_RC_OTHER,
    E1000_RC_CSB, /* CSBAL, CSBAH */
    E1000_RC_COUNT
};

enum e1000_drop {
    E1000_DROP_TX_BACKEND,  /* backend refused the frame */
    E1000_DROP_TX_OVERSIZE, /* frame over 64 KiB */
    E1000_DROP_TX_EMPTY,    /* zero-length frame */
    E1000_DROP_TX_BAD,      /* bad offload/TSO parameters, buffer outside RAM, mixed descriptors */
    E1000_DROP_RX_NO_DESC,  /* no RX descriptor and backlog full (MPC) */
    E1000_DROP_RX_OVERSIZE, /* longer than RCTL allows (no LPE) or than the ring can hold */
    E1000_DROP_RX_FILTER,   /* address filter */
    E1000_DROP_RX_DISABLED, /* RCTL.EN clear or ring unusable */
    E1000_DROP_RX_DMA,      /* RX buffer outside guest RAM */
    E1000_DROP_COUNT
};

enum e1000_guest_error {
    E1000_GERR_RING_INDEX,  /* head/tail >= ring length */
    E1000_GERR_RING_LEN,    /* ring length 0 or not a multiple of 16/128 */
    E1000_GERR_DESC_DMA,    /* descriptor outside guest RAM */
    E1000_GERR_BUF_DMA,     /* buffer outside guest RAM */
    E1000_GERR_TSO,         /* TSO with hdr_len/MSS zero or out of frame */
    E1000_GERR_CSUM,        /* checksum offsets outside the frame */
    E1000_GERR_MIXED_DESC,  /* legacy/extended mixed inside one frame */
    E1000_GERR_ACCESS,      /* register access of width != 4/8 or unaligned */
    E1000_GERR_IO_ADDR,     /* IOADDR outside the register space */
    E1000_GERR_REENTRY,     /* access while the device is in its own TX/RX path */
    E1000_GERR_WORK_BOUND,  /* a pass hit its work bound (rest deferred) */
    E1000_GERR_UNKNOWN_REG, /* access to an unimplemented register */
    E1000_GERR_CSB_ADDR,    /* CSB enable with a page outside guest RAM (refused) */
    E1000_GERR_CSB_INDEX,   /* a CSB index (guest_tdt, guest_rdt) >= ring size (ignored) */
    E1000_GERR_COUNT
};

struct e1000_stats {
    uint64_t exits_read[E1000_RC_COUNT], exits_write[E1000_RC_COUNT];
    uint64_t tdt_writes, rdt_writes;
    uint64_t irqs_raised;     /* rising edges of INTx */
    uint64_t irqs_suppressed; /* events that moderation held back (delay timers, ITR) */
    uint64_t itr_deferrals;   /* assertions postponed by ITR */
    uint64_t tx_frames, tx_bytes, tx_batches, tx_descs, tx_tso_segments;
    uint64_t rx_frames, rx_bytes, rx_descs, rx_backlogged, rx_polls;
    uint64_t rx_arrivals_deferred; /* arrival notices left to the polling guest */
    uint64_t drops[E1000_DROP_COUNT];
    uint64_t guest_errors[E1000_GERR_COUNT];
    uint64_t resets;
    /* CSB extension (docs/csb.md "Device side") */
    uint64_t csb_enables, csb_disables;
    uint64_t csb_tx_kicks, csb_rx_kicks; /* TDT/RDT writes seen by the model while on */
    uint64_t csb_doorbells;              /* kicks passed to the I/O thread's doorbell */
    uint64_t csb_sleeps;                 /* prepare_sleep said "sleep" */
    uint64_t csb_sleep_aborts;           /* prepare_sleep found work after setting the flags */
    uint64_t csb_rx_kick_arms; /* a full guest ring armed host_need_rxkick (thread asleep) */
    uint64_t csb_irqs_suppressed;        /* causes dropped: the guest did not ask (need_*intr 0) */
};

/* Moderation timers (absolute deadlines in ns, 0 = disarmed). */
struct e1000_timers {
    uint64_t tidv, tadv; /* TX packet / absolute delay → TXDW */
    uint64_t rdtr, radv; /* RX packet / absolute delay → RXT0 */
    uint64_t itr;        /* earliest next assertion allowed by ITR */
    uint64_t last_irq;   /* time of the last assertion */
    bool itr_pending;    /* an assertion waits for the ITR interval */
    bool have_last_irq;
};

struct e1000_txctx { /* the last context descriptor */
    uint8_t ipcss, ipcso, tucss, tucso, hdr_len, tucmd;
    uint16_t ipcse, tucse, mss;
    uint32_t paylen;
};

struct e1000_rx_frame { /* a frame waiting for RX descriptors */
    uint32_t len;
    uint8_t *data;
};

#define E1000_TX_ARENA (1u << 20)          /* bytes of frames staged for one backend batch */
#define E1000_TX_PKT_MAX 65536             /* frame cap (before TSO splitting) */
#define E1000_TX_DD_MAX 2048               /* descriptors written back per batch at most */
#define E1000_RX_FRAME_MAX 16384           /* largest frame the model receives (LPE) */
#define E1000_RX_POLL_BUDGET 4096          /* frames per e1000_rx_poll(): a guest ring's worth */
#define E1000_RX_PULL_GRACE_NS 200000ull   /* a guest whose pull got frames this recently polls */
#define E1000_RX_NODESC_RETRY_NS 200000ull /* frames wait, no free descriptor: look again then */
#define E1000_RX_OFF_RETRY_NS 10000000ull  /* frames wait, receiver disabled or not set up */
#define E1000_TSO_MAX_SEGS 4096

struct e1000 {
    pthread_mutex_t lock;
    struct e1000_config cfg;
    struct guest_mem *mem;
    struct irq_line irq;
    struct net_backend *backend;

    uint32_t regs[E1000_MMIO_SIZE / 4]; /* plain storage registers */
    uint16_t eeprom[E1000_EEPROM_WORDS];
    uint16_t phy[PHY_REGS];
    struct {
        uint32_t val_in, bits_in, bit_out;
        bool reading;
        uint32_t last;
    } eecd;
    uint64_t gorc, gotc, tor, tot; /* 64-bit octet statistics */
    uint32_t ioaddr;
    int irq_level;
    int depth; /* > 0 while inside TX/RX processing (re-entry guard) */

    struct e1000_timers t;
    bool tx_pending; /* a TX pass stopped at its work bound; continue from the timer hook */
    uint64_t reported_deadline; /* last value given to cfg.deadline_changed */

    /* TX state */
    struct e1000_txctx ctx;
    uint8_t *tx_pkt; /* frame being assembled (E1000_TX_PKT_MAX) */
    uint8_t *tx_seg; /* one TSO segment */
    uint32_t tx_len;
    bool tx_in_frame, tx_frame_ext, tx_frame_bad, tx_tse;
    uint8_t tx_popts;
    uint8_t tx_legacy_cso, tx_legacy_css;
    bool tx_legacy_ic, tx_vle;
    uint16_t tx_vlan;
    uint8_t *tx_arena; /* staged frames of the current batch */
    uint32_t tx_arena_used;
    uint64_t tx_pass_bytes; /* bytes staged in the current TX pass (work bound) */
    struct vpio_pkt *tx_batch;
    unsigned tx_batch_n;
    uint8_t **tx_dd; /* status bytes to set DD in once the batch has gone */
    unsigned tx_dd_n;

    /* RX state */
    uint8_t *rx_buf; /* one received frame */
    struct e1000_rx_frame *backlog;
    unsigned backlog_head, backlog_n, backlog_max;
    unsigned rx_taken;        /* frames the last poll took from the backlog or the backend */
    uint64_t rx_last_pull_ns; /* when a guest RDT write or the CSB thread last got frames */
    uint64_t rx_be_dropped;   /* the backend's rx_dropped count already reported as missed */

    /* CSB extension state (e1000_csb.c) */
    struct {
        bool enabled;
        uint32_t csbal, csbah; /* as read back */
        uint8_t *page;         /* host pointer to the CSB page inside guest RAM */
        uint32_t tx_seen;      /* last guest_tdt taken (valid or not) */
        uint32_t rx_seen;      /* last guest_rdt taken */
        int doorbell_fd;       /* >= 0 while a CSB I/O thread serves this NIC */
        bool sleeping;         /* that thread is between prepare_sleep and wake */
        uint32_t sleep_seq;    /* last non-zero value written to host_need_*kick */
        bool edge;             /* interrupts are edges, ICR consumed by them (CSBAL bit 1) */
    } csb;

    struct e1000_stats stats;
};

/* Sets up the device in its power-on state. 0, or -1 (allocation failed). */
int e1000_init(struct e1000 *dev, const struct e1000_config *cfg, struct guest_mem *mem,
               struct irq_line irq, struct net_backend *backend);
/* Frees the model's buffers (not the backend: its owner closes it). */
void e1000_destroy(struct e1000 *dev);

/* BAR0: offset inside the 128 KiB window; len 4 (or 8: two dwords). */
void e1000_mmio_read(struct e1000 *dev, uint64_t offset, uint8_t *data, uint32_t len);
void e1000_mmio_write(struct e1000 *dev, uint64_t offset, const uint8_t *data, uint32_t len);
/* BAR1: IOADDR at 0, IODATA at 4. */
void e1000_io_read(struct e1000 *dev, uint64_t offset, uint8_t *data, uint32_t len);
void e1000_io_write(struct e1000 *dev, uint64_t offset, const uint8_t *data, uint32_t len);
/* Convenience 32-bit accessors (tests, fuzzers). */
uint32_t e1000_reg_read(struct e1000 *dev, uint32_t offset);
void e1000_reg_write(struct e1000 *dev, uint32_t offset, uint32_t value);

/* Moves frames from the backend (and the backlog) into guest RX buffers,
 * at most E1000_RX_POLL_BUDGET frames; returns the number delivered. */
unsigned e1000_rx_poll(struct e1000 *dev);
/* The backend's notice that frames arrived (net_start_rx's on_ready):
 * delivers them like e1000_rx_poll, unless the guest is pulling frames
 * itself (an RDT write or the CSB I/O thread delivered frames less than
 * E1000_RX_PULL_GRACE_NS ago). Returns 0 when done, or the ns after which
 * to call again (the guest polls; no free descriptor; budget used up). */
uint64_t e1000_rx_arrived(struct e1000 *dev);

/* Earliest absolute time (ns, the device clock) at which e1000_timer_expired()
 * has work, or UINT64_MAX if none. */
uint64_t e1000_next_deadline_ns(struct e1000 *dev);
/* Runs expired moderation timers and deferred TX work. */
void e1000_timer_expired(struct e1000 *dev, uint64_t now_ns);
uint64_t e1000_now(struct e1000 *dev);

/* Current INTx level (for tests). */
int e1000_irq_level(struct e1000 *dev);

/* Setters for what the device's glue changes after e1000_init (each takes
 * the device lock; nobody outside the model's own files writes a field of
 * struct e1000):
 *   the GSI the INTx line drives (known once the PCI function is plugged);
 *   the edge path of the interrupt line (an irqfd; NULL: raise + lower);
 *   the hook called when the guest turns the CSB on or off (NULL: none;
 *   once this returns, a previous hook is no longer running). */
void e1000_set_irq_gsi(struct e1000 *dev, unsigned gsi);
void e1000_set_irq_pulse(struct e1000 *dev, void (*pulse)(void *opaque, unsigned gsi),
                         void *opaque);
void e1000_set_csb_hook(struct e1000 *dev, void (*csb_changed)(void *opaque, bool enabled),
                        void *opaque);

/* ---- CSB paravirtual extension (docs/csb.md; e1000_csb.c) ----
 * While the guest has the CSB enabled, TDT/RDT writes are kicks and the ring
 * indices travel through the CSB page. The serving functions are what the
 * per-NIC CSB I/O thread (e1000_csb_thread.h) calls; without such a thread
 * a kick serves synchronously inside the MMIO exit (and the host_need_*kick
 * flags stay 1, so the guest kicks every time: correct, just not fast). */
bool e1000_csb_enabled(struct e1000 *dev);
/* Walks TX from host_tdh to guest_tdt (one backend batch, DD write-back,
 * host_tdh published). Returns descriptors processed (0: no progress). */
unsigned e1000_csb_tx_serve(struct e1000 *dev);
/* Delivers backlog and backend frames into buffers up to guest_rdt,
 * publishes host_rdh. Returns frames taken (delivered, backlogged or dropped). */
unsigned e1000_csb_rx_serve(struct e1000 *dev);
/* The sleeper's double check: sets host_need_txkick (and host_need_rxkick if
 * frames wait for buffers), full barrier, re-reads guest_tdt/guest_rdt.
 * true: no new work, the caller may sleep (flags stay set); false: work
 * appeared, flags cleared, serve again. true as well if the CSB is off. */
bool e1000_csb_prepare_sleep(struct e1000 *dev);
/* The I/O thread woke (doorbell, backend, timer): clears host_need_*kick. */
void e1000_csb_wake(struct e1000 *dev);
/* A CSB I/O thread starts (fd = its doorbell eventfd) or stops (fd = -1)
 * serving this NIC. Kicks seen by the model then signal fd. */
void e1000_csb_attach(struct e1000 *dev, int doorbell_fd);

/* Counters. */
void e1000_get_stats(struct e1000 *dev, struct e1000_stats *out);
const char *e1000_reg_class_name(enum e1000_reg_class c);
const char *e1000_drop_name(enum e1000_drop d);
const char *e1000_guest_error_name(enum e1000_guest_error e);
void e1000_print_stats(struct e1000 *dev, const char *name, FILE *out);

#endif
