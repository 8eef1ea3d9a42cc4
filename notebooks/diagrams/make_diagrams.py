"""Draw the diagrams the lessons show: the loops and architectures they build.

    python notebooks/diagrams/make_diagrams.py [OUT_DIR]

writes one PNG per diagram (default: beside this script); the lessons embed them as
``![...](../diagrams/NAME.png)``. Only matplotlib is needed: boxes, arrows and labels,
drawn in data coordinates on a 0..W x 0..H canvas. Run it again after editing a
drawing and commit the images; tests/test_seminars.py checks that every image a
lesson embeds is one this script draws.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).resolve().parent
COLORS = {
    "env": "#dbeafe",  # blue: environment, data
    "net": "#dcfce7",  # green: networks and trained modules
    "op": "#fef3c7",  # yellow: computations written in the lesson
    "store": "#fce7f3",  # pink: memory, buffers, outputs
    "plain": "#f3f4f6",
}


class Canvas:
    """A figure with helpers for labelled boxes and arrows (coordinates in units)."""

    def __init__(self, width: float, height: float, title: str):
        self.fig, self.ax = plt.subplots(figsize=(width * 0.9, height * 0.9), dpi=100)
        self.ax.set_xlim(0, width)
        self.ax.set_ylim(0, height)
        self.ax.set_aspect("equal")
        self.ax.axis("off")
        self.ax.set_title(title, fontsize=13, fontweight="bold")

    def box(self, x, y, w, h, text, kind="plain", size=10):
        """A rounded box centred on (x, y); returns its centre and half sizes."""
        patch = FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            linewidth=1.2,
            edgecolor="#374151",
            facecolor=COLORS[kind],
        )
        self.ax.add_patch(patch)
        self.ax.text(x, y, text, ha="center", va="center", fontsize=size, wrap=True)
        return (x, y, w / 2, h / 2)

    def arrow(self, start, end, text="", style="-|>", curve=0.0, size=9, color="#111827"):
        """An arrow between two points (or box edges when given boxes)."""
        p, q = _edge(start, end), _edge(end, start)
        arrow = FancyArrowPatch(
            p,
            q,
            arrowstyle=style,
            mutation_scale=14,
            linewidth=1.3,
            color=color,
            connectionstyle=f"arc3,rad={curve}",
        )
        self.ax.add_patch(arrow)
        if text:
            mx, my = (p[0] + q[0]) / 2, (p[1] + q[1]) / 2
            # a curved arrow bends away from the straight line: move the label with it
            dx, dy = q[0] - p[0], q[1] - p[1]
            mx, my = mx + curve * dy * 0.5, my - curve * dx * 0.5
            self.ax.text(
                mx,
                my,
                text,
                ha="center",
                va="center",
                fontsize=size,
                color="#1f2937",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
            )

    def text(self, x, y, text, size=9, **kw):
        self.ax.text(x, y, text, ha="center", va="center", fontsize=size, **kw)

    def save(self, path: Path):
        self.fig.tight_layout()
        # no software version or date in the file: the same drawing gives the same bytes
        self.fig.savefig(path, dpi=100, metadata={"Software": None})
        plt.close(self.fig)


def _edge(a, b):
    """The point where the segment from a's centre towards b leaves box a."""
    if len(a) == 2:
        return a
    x, y, hw, hh = a
    bx, by = b[:2]
    dx, dy = bx - x, by - y
    if dx == 0 and dy == 0:
        return (x, y)
    scale = min(hw / abs(dx) if dx else float("inf"), hh / abs(dy) if dy else float("inf"))
    return (x + dx * scale, y + dy * scale)


# --- the diagrams --------------------------------------------------------------------


def cem_loop(out: Path):
    c = Canvas(11, 6, "Cross-entropy method: one iteration")
    policy = c.box(1.6, 3.0, 2.6, 1.2, "policy π(a|s)\n(table or network)", "net")
    play = c.box(5.5, 5.0, 3.0, 1.1, "play N sessions\nin the environment", "env")
    elite = c.box(9.3, 3.0, 2.8, 1.3, "keep the elite:\nreward ≥ q-th\npercentile", "op")
    fit = c.box(5.5, 1.0, 3.0, 1.1, "fit π to the elite\n(state, action) pairs", "op")
    c.arrow(policy, play, "sample actions", curve=-0.25)
    c.arrow(play, elite, "sessions + rewards", curve=-0.25)
    c.arrow(elite, fit, "elite pairs", curve=-0.25)
    c.arrow(fit, policy, "new π (smoothed)", curve=-0.25)
    c.text(5.5, 3.0, "repeat until the\nmean reward stops growing", size=10, style="italic")
    c.save(out / "cem_loop.png")


def dqn_loop(out: Path):
    c = Canvas(11, 6, "DQN: acting, replay and the target network")
    env = c.box(1.6, 4.6, 2.4, 1.1, "environment", "env")
    act = c.box(5.5, 4.6, 3.0, 1.1, "ε-greedy on Q(s, ·; θ)", "op")
    buf = c.box(9.3, 4.6, 2.6, 1.2, "replay buffer\n(s, a, r, s', term.)", "store")
    q = c.box(5.5, 2.5, 2.8, 1.1, "online network\nQ(s, a; θ)", "net")
    tgt = c.box(9.3, 2.5, 2.6, 1.1, "target network\nQ(s', ·; θ⁻)", "net")
    loss = c.box(
        5.5, 0.7, 5.6, 1.0, "TD loss: Huber(Q(s,a;θ) − [r + γ(1−term.) max Q(s',·;θ⁻)])", "op"
    )
    c.arrow(act, env, "action a")
    c.arrow(env, buf, "transition", curve=-0.35)
    c.arrow(buf, q, "random minibatch", curve=0.1)
    c.arrow(buf, tgt, "s'")
    c.arrow(q, loss, "")
    c.arrow(tgt, loss, "target (no grad)", curve=-0.2)
    c.arrow((2.8, 0.9), (4.1, 2.5), "gradient step on θ", curve=-0.4)
    c.arrow(q, tgt, "")
    c.text(7.6, 3.05, "copy θ⁻ ← θ\nevery N steps", size=8)
    c.arrow(q, act, "")
    c.save(out / "dqn_loop.png")


def seq2seq_attention(out: Path):
    c = Canvas(12, 6, "Encoder-decoder with additive attention (one decoder step)")
    xs = [1.2, 2.7, 4.2, 5.7]
    words = ["ein", "Hund", "läuft", "<eos>"]
    enc = [c.box(x, 1.4, 1.2, 0.8, f"$h_{i + 1}$", "net") for i, x in enumerate(xs)]
    for x, w in zip(xs, words):
        c.text(x, 0.7, w, size=9, style="italic")
    for a, b in zip(enc, enc[1:]):
        c.arrow(a, b, "", style="<|-|>")
    c.text(3.45, 0.2, "bidirectional GRU encoder over the source sentence", size=9)
    att = c.box(
        3.45,
        3.6,
        4.6,
        1.1,
        "$e_j = v^T \\tanh(W s_{t-1} + U h_j)$\n$\\alpha = \\mathrm{softmax}(e)$, padding masked",
        "op",
        size=9,
    )
    for e in enc:
        c.arrow(e, att, "", color="#6b7280")
    ctx = c.box(3.45, 5.2, 3.2, 0.8, "context $c_t = \\sum_j \\alpha_j h_j$", "op")
    c.arrow(att, ctx, "")
    dec = c.box(
        9.3,
        3.6,
        3.6,
        1.2,
        "decoder GRU\n$s_t = \\mathrm{GRU}(s_{t-1}, [y_{t-1}; c_t])$",
        "net",
        size=9,
    )
    c.arrow(dec, att, "$s_{t-1}$")
    c.arrow(ctx, dec, "$c_t$", curve=-0.25)
    outp = c.box(9.3, 5.3, 3.0, 0.8, "softmax → $P(y_t \\mid y_{<t}, x)$", "store", size=9)
    c.arrow(dec, outp, "")
    prev = c.box(9.3, 1.5, 3.0, 0.8, "previous word $y_{t-1}$", "env")
    c.arrow(prev, dec, "")
    c.save(out / "seq2seq_attention.png")


def beam_tree(out: Path):
    c = Canvas(11, 6, "Beam search, beam width 2: keep the 2 best prefixes per step")
    root = c.box(1.0, 3.0, 1.3, 0.8, "<bos>", "plain")
    step1 = {
        "a": c.box(3.6, 4.6, 1.4, 0.8, "a  −0.4", "op"),
        "the": c.box(3.6, 3.0, 1.4, 0.8, "the  −0.9", "op"),
        "dog": c.box(3.6, 1.6, 1.4, 0.8, "dog  −2.3", "plain"),
    }
    for name, b in step1.items():
        c.arrow(root, b, "", color="#111827" if name != "dog" else "#9ca3af")
    c.text(4.8, 1.6, "pruned", size=8, color="#6b7280")
    step2 = [
        ("a", c.box(6.6, 5.3, 1.8, 0.7, "a dog  −0.9", "op")),
        ("a", c.box(6.6, 4.3, 1.8, 0.7, "a cat  −2.6", "plain")),
        ("the", c.box(6.6, 3.2, 1.8, 0.7, "the dog  −1.2", "op")),
        ("the", c.box(6.6, 2.2, 1.8, 0.7, "the a  −4.0", "plain")),
    ]
    for parent, b in step2:
        c.arrow(step1[parent], b, "")
    done = c.box(9.6, 5.3, 1.9, 0.7, "… <eos>: finished", "store", size=9)
    c.arrow(step2[0][1], done, "")
    c.arrow(step2[2][1], (9.6, 3.2), "expand again")
    c.text(
        6.0,
        0.5,
        "score = sum of log-probabilities (÷ length^α to compare finished hypotheses);\n"
        "each step: expand every kept prefix by every word, keep the top-k of all",
        size=9,
    )
    c.save(out / "beam_search.png")


def unet(out: Path):
    c = Canvas(11, 6, "U-Net: contracting path, expanding path, skip connections")
    down = [(1.4, 5.0, "conv ×2\n64"), (2.8, 3.7, "conv ×2\n128"), (4.2, 2.4, "conv ×2\n256")]
    up = [(9.6, 5.0, "conv ×2\n64"), (8.2, 3.7, "conv ×2\n128"), (6.8, 2.4, "conv ×2\n256")]
    dboxes = [c.box(x, y, 1.2, 1.0, t, "net", size=9) for x, y, t in down]
    uboxes = [c.box(x, y, 1.2, 1.0, t, "net", size=9) for x, y, t in up]
    bottom = c.box(5.5, 1.0, 1.6, 1.0, "bottleneck\n512", "net", size=9)
    for a, b in zip(dboxes, dboxes[1:]):
        c.arrow(a, b, "max-pool ½", size=8)
    c.arrow(dboxes[-1], bottom, "pool", size=8)
    c.arrow(bottom, uboxes[-1], "up ×2", size=8)
    for a, b in zip(uboxes[::-1], uboxes[::-1][1:]):
        c.arrow(a, b, "up ×2", size=8)
    for d, u in zip(dboxes, uboxes):
        c.arrow(d, u, "skip: concatenate", color="#9333ea", size=8)
    c.box(1.4, 0.9, 1.8, 0.8, "image 3×H×W", "env", size=9)
    c.arrow((1.4, 1.3), dboxes[0], "")
    seg = c.box(9.6, 0.9, 2.0, 0.8, "1×1 conv → mask logits", "store", size=8)
    c.arrow(uboxes[0], seg, "")
    c.save(out / "unet.png")


def vae(out: Path):
    c = Canvas(11, 4.5, "Variational autoencoder: encoder, reparameterisation, decoder")
    x = c.box(0.8, 2.4, 1.2, 0.9, "image x", "env", size=9)
    enc = c.box(2.7, 2.4, 1.7, 1.2, "encoder\nq(z|x)", "net")
    mu = c.box(4.7, 3.4, 1.1, 0.7, "μ", "op")
    lv = c.box(4.7, 1.4, 1.1, 0.7, "log σ²", "op")
    z = c.box(6.6, 2.4, 1.9, 1.1, "z = μ + σ ⊙ ε\nε ~ N(0, I)", "op", size=9)
    dec = c.box(8.6, 2.4, 1.5, 1.2, "decoder\np(x|z)", "net")
    xhat = c.box(10.2, 2.4, 1.1, 0.9, "x̂", "store")
    for a, b in [(x, enc), (enc, mu), (enc, lv), (mu, z), (lv, z), (z, dec), (dec, xhat)]:
        c.arrow(a, b, "")
    c.text(
        5.5,
        0.4,
        "loss = −ELBO = reconstruction −log p(x|z)  +  KL(q(z|x) ‖ N(0, I))",
        size=10,
    )
    c.save(out / "vae.png")


def captioning_decoder(out: Path):
    c = Canvas(12, 5.5, "Captioning decoder with attention over the image grid")
    cnn = c.box(1.5, 4.0, 2.4, 1.1, "CNN (frozen)\nimage → grid", "net", size=9)
    grid = c.box(1.5, 1.4, 2.4, 1.2, "grid features\n$v_1 \\ldots v_R$ (R = 4×4)", "store", size=9)
    c.arrow(cnn, grid, "")
    att = c.box(
        5.6,
        1.4,
        3.8,
        1.2,
        "$\\alpha = \\mathrm{softmax}_r(\\mathrm{score}(h_{t-1}, v_r))$\n"
        "context $= \\sum_r \\alpha_r v_r$",
        "op",
        size=9,
    )
    c.arrow(grid, att, "")
    lstm = c.box(
        5.6,
        4.0,
        3.8,
        1.1,
        "LSTM cell\n$h_t = \\mathrm{LSTM}([E y_{t-1}; \\mathrm{context}], h_{t-1})$",
        "net",
        size=9,
    )
    c.arrow((5.0, 2.0), (5.0, 3.45), "context")
    c.arrow((6.3, 3.45), (6.3, 2.0), "$h_{t-1}$")
    word = c.box(10.0, 4.0, 2.6, 1.0, "softmax → next word $y_t$", "store", size=9)
    c.arrow(lstm, word, "")
    c.arrow(word, (10.0, 1.9), "")
    c.text(10.0, 1.5, "feed $y_t$ back\n(greedy or beam)", size=9)
    c.save(out / "captioning_decoder.png")


DIAGRAMS = {
    "cem_loop": cem_loop,
    "dqn_loop": dqn_loop,
    "seq2seq_attention": seq2seq_attention,
    "beam_search": beam_tree,
    "unet": unet,
    "vae": vae,
    "captioning_decoder": captioning_decoder,
}


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    for name, draw in DIAGRAMS.items():
        draw(out)
        print(f"wrote {out / (name + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
