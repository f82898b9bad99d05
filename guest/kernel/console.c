/* COM1 console (8250) and a small printf. Runs in ring 3; every port access
 * is a system call and a VM exit, so the console is for set-up and results
 * only, never the packet path. */
#include "io.h"
#include "kernel.h"

#define UART_THR 0
#define UART_FCR 2
#define UART_LSR 5
#define LSR_THRE 0x20
#define FCR_ENABLE_CLEAR 0x07           /* FIFO on, both FIFOs cleared */
#define UART_FIFO 16                    /* 16550A transmit FIFO */

/* With the FIFO on, THRE means the transmit FIFO is empty: one LSR read
 * then up to 16 THR writes in one `rep outsb` (one system call, one exit),
 * instead of two port accesses per byte. */
static void uart_burst(const char *s, size_t n)
{
    /* Bounded wait: a UART that never reports THRE must not hang us. */
    for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outsb(COM1 + UART_THR, s, n);
}

void console_write(const char *s, size_t n)
{
    char chunk[UART_FIFO];
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            if (c == UART_FIFO)
                uart_burst(chunk, c), c = 0;
            chunk[c++] = '\r';
        }
        if (c == UART_FIFO)
            uart_burst(chunk, c), c = 0;
        chunk[c++] = s[i];
    }
    if (c)
        uart_burst(chunk, c);
}

void console_putc(char c) { console_write(&c, 1); }

/* Called from entry.S before .bss is zeroed: uses no global state. The
 * time to this line is what "boot to first serial line" measures. */
void console_first_line(void)
{
    static const char msg[] = "vpio-guest: boot\n";
    outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
    console_write(msg, sizeof(msg) - 1);
}

struct out {
    char *buf;
    size_t size, len;
};

static void emit(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void emit_pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        emit(o, c);
}

static void emit_num(struct out *o, u64 v, bool neg, unsigned base, bool upper, int width,
                     bool zero, bool left)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (neg ? 1 : 0);
    if (!left && !zero)
        emit_pad(o, ' ', width - len);
    if (neg)
        emit(o, '-');
    if (!left && zero)
        emit_pad(o, '0', width - len);
    while (n)
        emit(o, tmp[--n]);
    if (left)
        emit_pad(o, ' ', width - len);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            emit(&o, *p);
            continue;
        }
        bool left = false, zero = false;
        int width = 0, prec = -1, lng = 0;
        for (p++;; p++) {
            if (*p == '-')
                left = true;
            else if (*p == '0')
                zero = true;
            else
                break;
        }
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        }
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        if (*p == '.') {
            prec = 0;
            p++;
            if (*p == '*') {
                prec = va_arg(ap, int);
                p++;
            }
            while (*p >= '0' && *p <= '9')
                prec = prec * 10 + (*p++ - '0');
        }
        while (*p == 'l' || *p == 'z') {
            lng++;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            emit_num(&o, v < 0 ? -(u64)v : (u64)v, v < 0, 10, false, width, zero, left);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            u64 v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            emit_num(&o, v, false, *p == 'u' ? 10 : 16, *p == 'X', width, zero, left);
            break;
        }
        case 'p':
            emit(&o, '0');
            emit(&o, 'x');
            emit_num(&o, (u64)(uintptr_t)va_arg(ap, void *), false, 16, false, width, zero, left);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = 0;
            while (s[len] && (prec < 0 || len < prec))
                len++;
            if (!left)
                emit_pad(&o, ' ', width - len);
            for (int i = 0; i < len; i++)
                emit(&o, s[i]);
            if (left)
                emit_pad(&o, ' ', width - len);
            break;
        }
        case 'c':
            emit(&o, (char)va_arg(ap, int));
            break;
        case '%':
            emit(&o, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            emit(&o, '%');
            emit(&o, *p);
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    return n;
}
