/* This file is part of account_invoice_dunning.  The COPYRIGHT file at the
top level of this repository contains the full copyright notices and license
terms.

The customization of Tryton's web client (sao) of the demo and of the browser
tests: scripts/serve.py installs it as the custom.js of the web client, which
sao loads after itself.

sao 8.0: a click on a bar of a graph whose x axis is not a date (an age, a
segment, a level) opens nothing and raises "Cannot read properties of
undefined": billboard.js gives the index of the bar on a category axis but
Sao.View.Graph.Chart looks the records of the bar up by its label. The index
is mapped to its label when the lookup fails (a client that gets it right is
left alone). */
(function() {
    'use strict';
    var Chart = window.Sao && Sao.View && Sao.View.Graph &&
        Sao.View.Graph.Chart;
    if (!Chart) {
        return;
    }
    var bb_config = Chart.prototype._bb_config;
    var action_key = Chart.prototype._action_key;
    Chart.prototype._bb_config = function(data) {
        // The labels of the x axis, in the order of their index
        this._x_labels = data.columns[0].slice(1);
        return bb_config.call(this, data);
    };
    Chart.prototype._action_key = function(data) {
        var key = action_key.call(this, data);
        if (!(this.ids && (key in this.ids)) && this._x_labels &&
                (data.index in this._x_labels)) {
            key = this._x_labels[data.index];
        }
        return key;
    };
}());
