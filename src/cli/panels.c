/* panels.c - Grafana row and timeseries panel JSON (schemaVersion 39 field names).
 *
 * Every panel queries the dashboard's $datasource variable, draws lines
 * with a light fill, lists its series in a legend at the bottom and shows
 * all series in the tooltip. A threshold, when given, is drawn as a dashed
 * line and colours values above it red.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "cli/dashboard.h"

static json_t *datasource_ref(void) {
    return json_pack("{s:s, s:s}", "type", "prometheus", "uid", "${datasource}");
}

static json_t *grid(int x, int y, int w, int h) {
    return json_pack("{s:i, s:i, s:i, s:i}", "h", h, "w", w, "x", x, "y", y);
}

/* json_array_append_new that reports failure (it frees v either way). */
static int append(json_t *array, json_t *v) {
    return v && json_array_append_new(array, v) == 0 ? 0 : VT_ENOMEM;
}

int vt__row_add(vt__layout_t *l, const char *title) {
    json_t *row =
        json_pack("{s:s, s:i, s:s, s:b, s:o, s:[]}", "type", "row", "id", l->next_id, "title",
                  title, "collapsed", 0, "gridPos", grid(0, l->y, 24, 1), "panels");
    l->next_id++;
    l->y += 1;
    return append(l->panels, row);
}

static json_t *thresholds(const vt__panel_spec_t *spec) {
    json_t *steps = json_pack("[{s:s, s:n}]", "color", "green", "value");
    if (steps && spec->has_threshold) {
        if (json_array_append_new(
                steps, json_pack("{s:s, s:f}", "color", "red", "value", spec->threshold)) != 0) {
            json_decref(steps);
            return NULL;
        }
    }
    return steps ? json_pack("{s:s, s:o}", "mode", "absolute", "steps", steps) : NULL;
}

static json_t *field_config(const vt__panel_spec_t *spec) {
    json_t *custom = json_pack(
        "{s:s, s:i, s:i, s:s, s:s, s:b, s:s, s:{s:s}}", "drawStyle", "line", "lineWidth", 1,
        "fillOpacity", 10, "showPoints", "never", "lineInterpolation", "linear", "spanNulls", 0,
        "axisPlacement", "auto", "thresholdsStyle", "mode", spec->has_threshold ? "dashed" : "off");
    json_t *defaults =
        json_pack("{s:s, s:i, s:{s:s}, s:o, s:o}", "unit", spec->unit, "min", 0, "color", "mode",
                  "palette-classic", "thresholds", thresholds(spec), "custom", custom);
    return defaults ? json_pack("{s:o, s:[]}", "defaults", defaults, "overrides") : NULL;
}

static json_t *options(void) {
    return json_pack("{s:{s:s, s:s, s:b, s:[]}, s:{s:s, s:s}}", "legend", "displayMode", "list",
                     "placement", "bottom", "showLegend", 1, "calcs", "tooltip", "mode", "multi",
                     "sort", "desc");
}

int vt__panel_add(vt__layout_t *l, const vt__panel_spec_t *spec, vt__target_t *targets,
                  size_t ntargets) {
    int rc = 0;
    json_t *tj = json_array();
    for (size_t i = 0; i < ntargets; i++) {
        if (!targets[i].expr) {
            rc = VT_ENOMEM;
            continue;
        }
        char ref[2] = {(char)('A' + i), '\0'};
        if (rc == 0 && tj &&
            append(tj, json_pack("{s:s, s:o, s:s, s:s, s:s, s:b, s:b}", "refId", ref, "datasource",
                                 datasource_ref(), "editorMode", "code", "expr", targets[i].expr,
                                 "legendFormat", targets[i].legend, "range", 1, "instant", 0))) {
            rc = VT_ENOMEM;
        }
        free(targets[i].expr);
        targets[i].expr = NULL;
    }
    if (rc || !tj) {
        json_decref(tj);
        return VT_ENOMEM;
    }
    json_t *panel =
        json_pack("{s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "type", "timeseries", "id",
                  l->next_id, "title", spec->title, "description", spec->description, "datasource",
                  datasource_ref(), "gridPos", grid(spec->x, l->y, spec->w, VT__PANEL_HEIGHT),
                  "fieldConfig", field_config(spec), "options", options(), "targets", tj);
    l->next_id++;
    return append(l->panels, panel);
}
