// A Plotly chart of the run dashboard (components/metric_chart.py), like NiceGUI's ui.plotly but cheaper to open:
// - charts mounted together are drawn in one batch after the page's first frame, charts on screen first, so one
//   chart's draw does not force a layout of a document that is still being built for the next one;
// - the element has CSS containment (its size never depends on its content), so the layout Plotly forces while
//   measuring only covers the chart itself;
// - it is resized only when its box really changed size (not once more right after the first draw).
const queue = [];
let scheduled = false;

function onScreen(el) {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.bottom > 0 && r.top < window.innerHeight;
}

function drawQueued() {
  scheduled = false;
  const charts = queue.splice(0).filter((vm) => vm.$el && vm.$el.isConnected);
  const first = charts.filter((vm) => onScreen(vm.$el));
  const later = charts.filter((vm) => !first.includes(vm));
  first.forEach((vm) => vm.draw());
  if (later.length) setTimeout(() => later.forEach((vm) => vm.draw()), 0);  // lets the browser paint the first ones
}

export default {
  template: '<div style="contain: strict"></div>',
  async mounted() {
    const { Plotly } = await import("nicegui-plotly");
    this.Plotly = Plotly;
    queue.push(this);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(() => setTimeout(drawQueued, 0));
    }
  },
  unmounted() {
    this.resizeObserver?.disconnect();
    this.drawn = false;
  },
  methods: {
    draw() {
      if (this.drawn || !this.$el.isConnected) return;
      this.drawn = true;
      this.Plotly.newPlot(this.$el, this.options.data, this.options.layout, this.options.config);
      this.size = [this.$el.clientWidth, this.$el.clientHeight];
      this.set_handlers();
      this.resizeObserver = new ResizeObserver(() => {
        const size = [this.$el.clientWidth, this.$el.clientHeight];
        if (!size[0] || (size[0] === this.size[0] && size[1] === this.size[1])) return;
        this.size = size;
        this.Plotly.Plots.resize(this.$el);
      });
      this.resizeObserver.observe(this.$el);
    },
    update() {
      // a new figure from the server (smoothing, zoom, resend): redraw in place once the chart is drawn
      if (this.drawn) this.Plotly.react(this.$el, this.options.data, this.options.layout, this.options.config);
    },
    async run_plot_method(name, ...args) {
      if (!this.drawn) return;
      const result = await this.Plotly[name](this.$el, ...args);
      return result === this.$el ? undefined : result;
    },
    set_handlers() {
      for (const name of ["plotly_click", "plotly_legendclick", "plotly_relayout", "plotly_doubleclick",
                          "plotly_afterplot", "plotly_redraw"]) {
        this.$el.on(name, (event) => {
          const args = {
            ...event,
            points: event?.points?.map((p) => ({ ...p, fullData: undefined, xaxis: undefined, yaxis: undefined })),
            xaxes: undefined,
            yaxes: undefined,
          };
          this.$emit(name, args);
        });
      }
    },
  },
  props: {
    options: Object,
  },
};
