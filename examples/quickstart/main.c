#include <stdio.h>
#include <vitals.h>

int main(void) {
    vt_registry_t *reg = vt_registry_default();
    vt_counter_t *requests;
    vt_histogram_t *latency;
    vt_counter_create(reg, "http_requests_total", "Requests served.",
                      VT_LABELS("method", "route", "code"), &requests);
    vt_histogram_create(reg, "http_request_duration_seconds", "Request latency.",
                        VT_LABELS("route"), NULL, 0, &latency); /* default buckets */

    vt_counter_series_t *get_ok; /* bind labels once: the hot path takes the handle */
    vt_histogram_series_t *get_latency;
    vt_counter_with(requests, VT_VALUES("GET", "/reservations/:user_id", "200"), &get_ok);
    vt_histogram_with(latency, VT_VALUES("/reservations/:user_id"), &get_latency);

    vt_counter_inc(get_ok);                   /* no lock, no atomic RMW, no allocation */
    vt_histogram_observe(get_latency, 0.042); /* seconds */

    vt_buf_t out = {0};
    vt_registry_write_buf(reg, NULL, &out); /* text 0.0.4; VT_FORMAT_OPENMETRICS too */
    fputs(out.data, stdout);
    vt_buf_free(&out);
    return 0;
}
