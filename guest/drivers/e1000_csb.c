/* Pure parts of the e1000 transmit disciplines (see e1000_csb.h and
 * docs/csb.md). Builds into the guest and into tests/unit/test_guest_csb.c. */
#include "e1000_csb.h"

_Static_assert(offsetof(struct e1000_csb, guest_need_rxintr) == 0x0c, "CSB guest layout");
_Static_assert(offsetof(struct e1000_csb, host_tdh) == 0x40, "CSB host line");
_Static_assert(offsetof(struct e1000_csb, host_need_rxkick) == 0x4c, "CSB host layout");
_Static_assert(sizeof(struct e1000_csb) == 4096, "CSB is one page");

#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define FULL_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST) /* mfence */

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

int e1000_txmode_parse(const char *s)
{
    if (!s || !*s || str_eq(s, "classic"))
        return E1000_TX_CLASSIC;
    if (str_eq(s, "sc"))
        return E1000_TX_SC;
    if (str_eq(s, "csb"))
        return E1000_TX_CSB;
    return -1;
}

const char *e1000_txmode_name(int mode)
{
    switch (mode) {
    case E1000_TX_CLASSIC:
        return "classic";
    case E1000_TX_SC:
        return "sc";
    case E1000_TX_CSB:
        return "csb";
    default:
        return "?";
    }
}

bool csb_offered(u16 subsys_vendor, u16 subsys_id)
{
    return subsys_vendor == E1000_CSB_SUBSYS_VENDOR && subsys_id == E1000_CSB_SUBSYS_ID;
}

bool csb_readback_ok(u32 csbal_read, u64 csb_phys)
{
    return (csbal_read & E1000_CSBAL_ENABLE) &&
           (csbal_read & ~0xfffu) == ((u32)csb_phys & ~0xfffu);
}

int e1000_txmode_resolve(int requested, bool offered, bool readback_ok)
{
    if (requested != E1000_TX_CSB)
        return requested;
    return offered && readback_ok ? E1000_TX_CSB : E1000_TX_SC;
}

void csb_init(struct e1000_csb *c, u32 tdt, u32 rdt)
{
    STORE_REL(&c->guest_tdt, tdt);
    STORE_REL(&c->guest_rdt, rdt);
    STORE_REL(&c->guest_need_txintr, 0);
    STORE_REL(&c->guest_need_rxintr, 1);
    FULL_FENCE();
}

bool csb_tx_publish(struct e1000_csb *c, u32 tdt)
{
    STORE_REL(&c->guest_tdt, tdt);
    FULL_FENCE();
    return LOAD_ACQ(&c->host_need_txkick) != 0;
}

bool csb_rx_publish(struct e1000_csb *c, u32 rdt)
{
    STORE_REL(&c->guest_rdt, rdt);
    FULL_FENCE();
    return LOAD_ACQ(&c->host_need_rxkick) != 0;
}

bool csb_kick_once(u32 flag, u32 *last)
{
    if (flag == 0 || flag == *last)
        return false;
    *last = flag;
    return true;
}

bool csb_tx_publish_once(struct e1000_csb *c, u32 tdt, u32 *last)
{
    STORE_REL(&c->guest_tdt, tdt);
    FULL_FENCE();
    return csb_kick_once(LOAD_ACQ(&c->host_need_txkick), last);
}

bool csb_rx_publish_once(struct e1000_csb *c, u32 rdt, u32 *last)
{
    STORE_REL(&c->guest_rdt, rdt);
    FULL_FENCE();
    return csb_kick_once(LOAD_ACQ(&c->host_need_rxkick), last);
}

u32 csb_host_tdh(const struct e1000_csb *c, u32 n, u32 fallback)
{
    u32 v = LOAD_ACQ(&c->host_tdh);
    return v < n ? v : fallback;
}

u32 csb_host_rdh(const struct e1000_csb *c, u32 n, u32 fallback)
{
    u32 v = LOAD_ACQ(&c->host_rdh);
    return v < n ? v : fallback;
}

bool csb_rx_sleep_ok(struct e1000_csb *c, u32 seen, u32 n)
{
    STORE_REL(&c->guest_need_rxintr, 1);
    FULL_FENCE();
    if (csb_host_rdh(c, n, seen) == seen)
        return true; /* still nothing: the host will see the flag */
    STORE_REL(&c->guest_need_rxintr, 0);
    return false;
}

void csb_rx_awake(struct e1000_csb *c)
{
    STORE_REL(&c->guest_need_rxintr, 0);
}

bool csb_tx_sleep_ok(struct e1000_csb *c, u32 seen, u32 n)
{
    STORE_REL(&c->guest_need_txintr, 1);
    FULL_FENCE();
    if (csb_host_tdh(c, n, seen) == seen)
        return true;
    STORE_REL(&c->guest_need_txintr, 0);
    return false;
}

void csb_tx_awake(struct e1000_csb *c)
{
    STORE_REL(&c->guest_need_txintr, 0);
}

bool sc_should_write(bool pending, u32 irq_mark, u32 irqs, bool stall, u64 waited, u64 timeout)
{
    return !pending || irqs != irq_mark || stall || waited >= timeout;
}
