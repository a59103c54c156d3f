/* top_tui.c - the full-screen view of `vitals top` (ncurses): one line per route, grouped,
 * sortable.
 *
 * Layout, top to bottom: a title bar (interval, sort column, filter, pause,
 * clock), the column header, the body (per endpoint: its status and
 * saturation line, then per RED family its name and its routes), and a key
 * line that turns into the filter prompt after "/". The body scrolls with
 * the arrow and page keys when it is taller than the screen. Everything is
 * redrawn from the endpoints' figures on each call (ncurses sends only the
 * difference), so a resize needs nothing but the next draw.
 *
 * Sparklines show the last minute of rates scaled to their own maximum,
 * with the Unicode blocks when the locale's character set is UTF-8, ASCII
 * otherwise. Figures over the error ratio threshold or latency objective
 * are drawn in red or yellow and bold (bold and reverse without colors).
 *
 * Only the main thread calls these functions.
 *
 * SPDX-License-Identifier: MIT
 */
#include <langinfo.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curses.h>

#include "cli/top.h"

enum { PAIR_BAD = 1, PAIR_WARN = 2, PAIR_OK = 3, PAIR_TITLE = 4 };

#define W_RATE 9
#define W_ERRS 8
#define W_PCT 7
#define W_Q 8

struct vt__top_tui {
    SCREEN *screen;
    double interval;
    double error_threshold, latency_objective;
    vt__top_sort_t sort;
    int reverse;
    char filter[128];
    int editing; /* the key line is the filter prompt */
    char edit[128];
    size_t edit_len;
    int paused;
    int scroll;     /* first body line shown */
    int body_lines; /* of the latest draw */
    int unicode;    /* blocks, not ASCII */
    int colors;
    int spark_points; /* rates in a minute */
};

static const char *const blocks[8] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                      "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
                                      "\xe2\x96\x87", "\xe2\x96\x88"};
static const char ascii_levels[] = "_.-:=+*#";

int vt__top_tui_start(const vt__top_opts_t *o, FILE *out, FILE *in, const char *term,
                      vt__top_tui_t **out_tui) {
    vt__top_tui_t *t = calloc(1, sizeof *t);
    if (!t) {
        return VT_ENOMEM;
    }
    t->screen = newterm(term, out ? out : stdout, in ? in : stdin);
    if (!t->screen) {
        free(t);
        return VT_EIO;
    }
    set_term(t->screen);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
        init_pair(PAIR_BAD, COLOR_RED, -1);
        init_pair(PAIR_WARN, COLOR_YELLOW, -1);
        init_pair(PAIR_OK, COLOR_GREEN, -1);
        init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
        t->colors = 1;
    }
    const char *cs = nl_langinfo(CODESET);
    t->unicode = !o->ascii && cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    t->interval = o->interval;
    t->error_threshold = o->error_threshold;
    t->latency_objective = o->latency_objective;
    t->sort = o->sort;
    t->reverse = o->sort_reverse;
    if (o->filter) {
        vt__top_copy(t->filter, sizeof t->filter, o->filter);
    }
    int points = (int)ceil(60.0 / o->interval);
    t->spark_points = points < 2 ? 2 : points > VT__TOP_HISTORY ? VT__TOP_HISTORY : points;
    *out_tui = t;
    return 0;
}

void vt__top_tui_stop(vt__top_tui_t *t) {
    if (!t) {
        return;
    }
    set_term(t->screen);
    curs_set(1);
    endwin();
    delscreen(t->screen);
    free(t);
}

int vt__top_tui_paused(const vt__top_tui_t *t) {
    return t->paused;
}

static void choose_sort(vt__top_tui_t *t, vt__top_sort_t s) {
    if (t->sort == s) {
        t->reverse = !t->reverse;
    } else {
        t->sort = s;
        t->reverse = 0;
    }
    t->scroll = 0;
}

static int edit_key(vt__top_tui_t *t, int ch) {
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        t->edit[t->edit_len] = '\0';
        vt__top_copy(t->filter, sizeof t->filter, t->edit);
        t->editing = 0;
        t->scroll = 0;
    } else if (ch == 27) { /* Escape: keep the old filter */
        t->editing = 0;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        /* Remove one UTF-8 character. */
        while (t->edit_len > 0 && ((unsigned char)t->edit[--t->edit_len] & 0xc0) == 0x80) {
        }
    } else if (ch == 21) { /* Ctrl-U */
        t->edit_len = 0;
    } else if (ch >= 32 && ch < 256 && ch != 127 && t->edit_len + 1 < sizeof t->edit) {
        t->edit[t->edit_len++] = (char)ch;
    }
    t->edit[t->edit_len] = '\0';
    return 0;
}

int vt__top_tui_keys(vt__top_tui_t *t) {
    int ch;
    set_term(t->screen);
    while ((ch = getch()) != ERR) {
        if (t->editing) {
            edit_key(t, ch);
            continue;
        }
        int page = LINES > 6 ? LINES - 4 : 1;
        switch (ch) {
        case 'q':
        case 'Q':
            return 1;
        case ' ':
            t->paused = !t->paused;
            break;
        case 'r':
            choose_sort(t, VT__SORT_RATE);
            break;
        case 'e':
            choose_sort(t, VT__SORT_ERRORS);
            break;
        case '%':
            choose_sort(t, VT__SORT_RATIO);
            break;
        case '5':
            choose_sort(t, VT__SORT_P50);
            break;
        case '9':
            choose_sort(t, VT__SORT_P90);
            break;
        case 'p':
            choose_sort(t, VT__SORT_P99);
            break;
        case 'n':
            choose_sort(t, VT__SORT_NAME);
            break;
        case '/':
            t->editing = 1;
            vt__top_copy(t->edit, sizeof t->edit, t->filter);
            t->edit_len = strlen(t->edit);
            break;
        case KEY_UP:
        case 'k':
            t->scroll--;
            break;
        case KEY_DOWN:
        case 'j':
            t->scroll++;
            break;
        case KEY_PPAGE:
            t->scroll -= page;
            break;
        case KEY_NPAGE:
            t->scroll += page;
            break;
        case KEY_HOME:
            t->scroll = 0;
            break;
        case KEY_RESIZE:
            clearok(curscr, TRUE);
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ---- drawing ----------------------------------------------------------------------------- */

/* Write s in at most width columns (UTF-8 characters counted as one), with
 * a mark at the end when it is cut; pad to width when pad is set. */
static void put_cut(const char *s, int width, int pad, int unicode) {
    int cols = 0;
    const char *p = s;
    while (*p && cols < width) {
        const char *next = p + 1;
        while (((unsigned char)*next & 0xc0) == 0x80) {
            next++;
        }
        if (cols == width - 1 && next[0]) {
            break; /* room for the mark only */
        }
        addnstr(p, (int)(next - p));
        cols++;
        p = next;
    }
    if (*p && cols < width) {
        addstr(unicode ? "\xe2\x80\xa6" : "~");
        cols++;
    }
    while (pad && cols < width) {
        addch(' ');
        cols++;
    }
}

static const char *sort_name(vt__top_sort_t s) {
    static const char *const names[] = {"name", "rate", "errors", "error %", "p50", "p90", "p99"};
    return names[s];
}

/* A right-aligned cell, highlighted when hot. */
static void cell(const vt__top_tui_t *t, const char *text, int width, int hot, int pair) {
    attr_t a = 0;
    if (hot) {
        a = A_BOLD | (t->colors ? (attr_t)COLOR_PAIR(pair) : A_REVERSE);
    }
    attron(a);
    printw(" %*s", width - 1, text);
    attroff(a);
}

/* The rate i points before the newest (0: newest). */
static double past(const vt__top_route_t *r, size_t i) {
    return r->history[(r->history_next + VT__TOP_HISTORY - 1 - i) % VT__TOP_HISTORY];
}

/* The last minute of rates in width columns, each the mean of its share of
 * the points, newest at the right, scaled to the largest column. */
static void spark(const vt__top_tui_t *t, const vt__top_route_t *r, int width) {
    size_t points =
        r->history_len < (size_t)t->spark_points ? r->history_len : (size_t)t->spark_points;
    size_t per = ((size_t)t->spark_points + (size_t)width - 1) / (size_t)width;
    size_t cols = (points + per - 1) / per;
    double v[64], max = 0;
    for (size_t c = 0; c < cols && c < 64; c++) {
        double sum = 0;
        size_t k = 0;
        for (size_t i = c * per; i < (c + 1) * per && i < points; i++, k++) {
            sum += past(r, i);
        }
        v[c] = k ? sum / (double)k : 0;
        max = v[c] > max ? v[c] : max;
    }
    addch(' ');
    for (size_t i = cols; i < (size_t)width; i++) {
        addch(' ');
    }
    for (size_t c = cols; c-- > 0;) {
        int level = max > 0 && v[c] > 0 ? (int)lround(v[c] / max * 7) : 0;
        level = level < 0 ? 0 : level > 7 ? 7 : level;
        if (t->unicode) {
            addstr(blocks[level]);
        } else {
            addch((chtype)(unsigned char)ascii_levels[level]);
        }
    }
}

/* Write s in what is left of the current line (nothing ever wraps). */
static void put_rest(const vt__top_tui_t *t, const char *s) {
    int y, x;
    getyx(stdscr, y, x);
    (void)y;
    put_cut(s, COLS - x, 0, t->unicode);
}

static void rest_printf(const vt__top_tui_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rest_printf(const vt__top_tui_t *t, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put_rest(t, buf);
}

static void title(const vt__top_tui_t *t, size_t n) {
    char clock[16], left[256];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    attr_t a = t->colors ? (attr_t)COLOR_PAIR(PAIR_TITLE) : A_REVERSE;
    attron(a);
    move(0, 0);
    for (int i = 0; i < COLS; i++) {
        addch(' ');
    }
    snprintf(left, sizeof left, " vitals top  %zu endpoint%s  every %gs  sort: %s %s", n,
             n == 1 ? "" : "s", t->interval, sort_name(t->sort),
             t->unicode ? (t->reverse ? "\xe2\x96\xb2" : "\xe2\x96\xbc")
                        : (t->reverse ? "^" : "v"));
    int room = COLS - 10;
    move(0, 0);
    put_cut(left, room, 0, t->unicode);
    if (t->filter[0] && getcurx(stdscr) + 12 < room) {
        addstr("  filter: ");
        put_cut(t->filter, room - getcurx(stdscr) < 20 ? room - getcurx(stdscr) : 20, 0,
                t->unicode);
    }
    if (t->paused && getcurx(stdscr) + 8 <= room) {
        attron(A_BOLD);
        addstr("  PAUSED");
        attroff(A_BOLD);
    }
    mvaddstr(0, COLS - 9, clock);
    attroff(a);
}

/* The widths of the route column (the longest name shown, within what the
 * screen leaves) and of the sparkline (a minute of rates, at most 30 columns). */
static void widths(const vt__top_tui_t *t, int longest, int *route_w, int *spark_w) {
    int fixed = 4 + W_RATE + W_ERRS + W_PCT + 3 * W_Q;
    int room = COLS - fixed;
    int sw = t->spark_points < 30 ? t->spark_points : 30;
    int want = longest < 16 ? 16 : longest;
    if (room - sw - 1 < want) {
        sw = room - 1 - want;
    }
    if (sw < 8) {
        sw = 0;
    }
    *spark_w = sw;
    int rw = room - (sw ? sw + 1 : 0);
    *route_w = rw < 8 ? 8 : rw > want ? want : rw;
}

static void header(const vt__top_tui_t *t, int route_w, int spark_w) {
    static const char *const names[] = {"ROUTE", "RATE/s", "ERR/s", "ERR%", "P50", "P90", "P99"};
    static const vt__top_sort_t cols[] = {VT__SORT_NAME,  VT__SORT_RATE, VT__SORT_ERRORS,
                                          VT__SORT_RATIO, VT__SORT_P50,  VT__SORT_P90,
                                          VT__SORT_P99};
    static const int w[] = {0, W_RATE, W_ERRS, W_PCT, W_Q, W_Q, W_Q};
    move(1, 0);
    attron(A_BOLD);
    addstr("    ");
    for (int i = 0; i < 7; i++) {
        if (cols[i] == t->sort) {
            attron(A_UNDERLINE);
        }
        if (i == 0) {
            put_cut(names[0], route_w, 0, t->unicode);
        } else {
            printw("%*s", w[i], names[i]);
        }
        attroff(A_UNDERLINE);
        if (i == 0) {
            for (int k = (int)strlen(names[0]); k < route_w; k++) {
                addch(' ');
            }
        }
    }
    if (spark_w) {
        printw(" %-*s", spark_w, "RATE (1m)");
    }
    attroff(A_BOLD);
}

static void endpoint_line(const vt__top_tui_t *t, const vt__top_endpoint_t *e) {
    attron(A_BOLD);
    put_cut(e->url, COLS / 2, 0, t->unicode);
    attroff(A_BOLD);
    put_rest(t, "  ");
    if (!e->scraped) {
        put_rest(t, "waiting for the first scrape");
        return;
    }
    attr_t a = t->colors ? (attr_t)COLOR_PAIR(e->up ? PAIR_OK : PAIR_BAD) : 0;
    if (!e->up) {
        a |= A_BOLD;
    }
    attron(a);
    put_rest(t, e->status);
    attroff(a);
    if (!e->up) {
        char since[16];
        time_t s = (time_t)e->status_since;
        struct tm tm;
        localtime_r(&s, &tm);
        strftime(since, sizeof since, "%H:%M:%S", &tm);
        rest_printf(t, " (since %s)", since);
        return;
    }
    const vt__top_sat_t *sat = &e->state.sat;
    char a1[32], a2[32];
    if (!isnan(sat->cpu)) {
        vt__top_fmt_percent(sat->cpu, a1, sizeof a1);
        rest_printf(t, "  cpu %s", a1);
    }
    if (!isnan(sat->resident)) {
        vt__top_fmt_bytes(sat->resident, a1, sizeof a1);
        rest_printf(t, "  rss %s", a1);
    }
    if (!isnan(sat->open_fds)) {
        snprintf(a1, sizeof a1, "%.0f", sat->open_fds);
        snprintf(a2, sizeof a2, "%.0f", sat->max_fds);
        rest_printf(t, "  fds %s/%s", a1, isnan(sat->max_fds) ? "-" : a2);
    }
    for (size_t i = 0; i < sat->in_flight_count; i++) {
        if (!isnan(sat->in_flight[i].value)) {
            rest_printf(t, "  in-flight %.0f", sat->in_flight[i].value);
        }
    }
    if (!e->state.have_rates) {
        put_rest(t, "  (rates after the next scrape)");
    }
}

static void route_line(const vt__top_tui_t *t, const vt__top_route_t *r, int route_w, int spark_w) {
    char rate[32], errs[32], pct[32], q[3][32];
    vt__top_fmt_rate(r->rate, rate, sizeof rate);
    vt__top_fmt_rate(r->errors, errs, sizeof errs);
    vt__top_fmt_percent(r->error_ratio, pct, sizeof pct);
    addstr("    ");
    put_cut(r->name, route_w, 1, t->unicode);
    cell(t, rate, W_RATE, 0, 0);
    int bad = r->error_ratio > t->error_threshold;
    cell(t, errs, W_ERRS, bad, PAIR_BAD);
    cell(t, pct, W_PCT, bad, PAIR_BAD);
    const double qs[3] = {r->p50, r->p90, r->p99};
    for (int k = 0; k < 3; k++) {
        vt__top_fmt_seconds(qs[k], q[k], sizeof q[k]);
        cell(t, q[k], W_Q, qs[k] > t->latency_objective, PAIR_WARN);
    }
    if (spark_w) {
        spark(t, r, spark_w);
    }
}

static void key_line(const vt__top_tui_t *t) {
    move(LINES - 1, 0);
    clrtoeol();
    if (t->editing) {
        put_rest(t, "filter: ");
        put_cut(t->edit, COLS - 12, 0, t->unicode);
        put_rest(t, "_  (Enter applies, Esc cancels)");
        return;
    }
    static const char full[] = "sort: r rate  e errors  % err%  5 p50  9 p90  p p99  n name   "
                               "/ filter   space pause   q quit";
    static const char brief[] = "sort: r e % 5 9 p n   / filter   space pause   q quit";
    attron(A_DIM);
    put_cut(COLS > (int)sizeof full ? full : brief, COLS - 1, 0, t->unicode);
    attroff(A_DIM);
}

void vt__top_tui_draw(vt__top_tui_t *t, const vt__top_endpoint_t *eps, size_t n) {
    set_term(t->screen);
    erase();
    if (COLS < 64 || LINES < 6) {
        mvaddnstr(0, 0, "vitals top: the terminal is too small", COLS);
        mvaddnstr(1 < LINES ? 1 : 0, 0, "(at least 64 x 6; q quits)", COLS);
        refresh();
        return;
    }
    /* Count the body's lines first, to keep the scroll position in range. */
    int top = 2, height = LINES - 3;
    size_t **rows = calloc(n ? n : 1, sizeof *rows);
    size_t *counts = calloc(n ? n : 1, sizeof *counts);
    int total = 0;
    for (size_t i = 0; rows && counts && i < n; i++) {
        total++;
        if (eps[i].up &&
            vt__top_rows(&eps[i], t->sort, t->reverse, t->filter, &rows[i], &counts[i]) == 0) {
            size_t last = (size_t)-1;
            for (size_t k = 0; k < counts[i]; k++) {
                size_t fam = eps[i].state.routes[rows[i][k]].family;
                total += fam != last;
                last = fam;
            }
            total += (int)counts[i];
        }
    }
    int longest = 0;
    for (size_t i = 0; rows && counts && i < n; i++) {
        for (size_t k = 0; k < counts[i]; k++) {
            int len = (int)strlen(eps[i].state.routes[rows[i][k]].name);
            longest = len > longest ? len : longest;
        }
    }
    int route_w, spark_w;
    widths(t, longest, &route_w, &spark_w);
    title(t, n);
    header(t, route_w, spark_w);
    t->body_lines = total;
    if (t->scroll > total - height) {
        t->scroll = total - height;
    }
    if (t->scroll < 0) {
        t->scroll = 0;
    }

    int line = 0;
    for (size_t i = 0; rows && counts && i < n; i++) {
        if (line >= t->scroll && line - t->scroll < height) {
            move(top + line - t->scroll, 0);
            endpoint_line(t, &eps[i]);
        }
        line++;
        size_t last = (size_t)-1;
        for (size_t k = 0; k < counts[i]; k++) {
            const vt__top_state_t *st = &eps[i].state;
            const vt__top_route_t *r = &st->routes[rows[i][k]];
            if (r->family != last) {
                if (line >= t->scroll && line - t->scroll < height) {
                    move(top + line - t->scroll, 2);
                    attron(A_UNDERLINE);
                    put_cut(st->families[r->family].name, COLS - 3, 0, t->unicode);
                    attroff(A_UNDERLINE);
                }
                line++;
                last = r->family;
            }
            if (line >= t->scroll && line - t->scroll < height) {
                move(top + line - t->scroll, 0);
                route_line(t, r, route_w, spark_w);
            }
            line++;
        }
        free(rows[i]);
    }
    if (eps && n && total == (int)n && t->filter[0]) {
        mvaddstr(top + (int)n, 4, "(no route matches the filter)");
    }
    free(rows);
    free(counts);
    key_line(t);
    refresh();
}
