"""Text views for simulated users and items, written from topic vocabularies.

Each topic has its own nouns and adjectives. A user's text is a few review-like sentences; each
sentence is about a topic drawn from the user's intent mixture, or, with probability
``noise``, about a topic drawn uniformly at random, so ``noise=0`` makes the intent as
recoverable from the text as the mixture allows and ``noise=1`` makes the text independent of
it. An item's title and description are written from the item's topic with the same knob.
This mirrors the generative story of topic models (Blei, Ng and Jordan 2003, "Latent Dirichlet
Allocation"): documents are mixtures over topics, topics are distributions over words.
"""

from __future__ import annotations

import numpy as np

#: topic -> (nouns, adjectives); 12 topics, disjoint vocabularies
TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "science fiction": (("starship", "alien", "galaxy", "robot", "time travel", "space station",
                         "android", "wormhole", "colony", "laser", "cyborg", "planet"),
                        ("futuristic", "interstellar", "dystopian", "cosmic", "robotic")),
    "cooking": (("recipe", "pasta", "bread", "sauce", "kitchen knife", "oven", "soup",
                 "spice blend", "dumpling", "cookbook", "grill", "pastry"),
                ("savory", "homemade", "crispy", "spicy", "delicious")),
    "football": (("goalkeeper", "striker", "stadium", "penalty", "league", "midfield",
                  "referee", "jersey", "transfer", "derby", "coach", "trophy"),
                 ("tactical", "defensive", "athletic", "competitive", "offside")),
    "jazz music": (("saxophone", "trumpet", "vinyl record", "bassline", "improvisation",
                    "big band", "piano trio", "swing", "melody", "drummer", "club gig",
                    "album"),
                   ("soulful", "bluesy", "smooth", "syncopated", "acoustic")),
    "travel": (("passport", "beach resort", "backpack", "flight", "hostel", "itinerary",
                "island", "city tour", "luggage", "road trip", "mountain hike", "ferry"),
               ("exotic", "scenic", "tropical", "adventurous", "coastal")),
    "fashion": (("dress", "sneakers", "handbag", "jacket", "runway", "fabric", "scarf",
                 "boutique", "jeans", "designer label", "wardrobe", "earrings"),
                ("stylish", "elegant", "trendy", "vintage", "tailored")),
    "gardening": (("tomato plant", "compost", "seedling", "greenhouse", "rose bush",
                   "watering can", "soil", "hedge", "herb garden", "pruning shears",
                   "flower bed", "mulch"),
                  ("organic", "blooming", "leafy", "perennial", "fertile")),
    "personal finance": (("budget", "savings account", "index fund", "mortgage", "tax return",
                          "pension", "credit card", "stock portfolio", "interest rate",
                          "dividend", "loan", "retirement plan"),
                         ("frugal", "financial", "profitable", "fiscal", "prudent")),
    "video games": (("console", "boss fight", "controller", "multiplayer", "speedrun",
                     "open world", "quest", "pixel art", "level design", "joystick",
                     "save file", "arcade"),
                    ("retro", "competitive", "immersive", "co-op", "handheld")),
    "fitness": (("treadmill", "dumbbell", "yoga mat", "marathon", "protein shake", "workout",
                 "squat", "running shoes", "gym", "stretching", "cardio", "kettlebell")
                , ("muscular", "sweaty", "energetic", "athletic", "lean")),
    "photography": (("camera", "lens", "tripod", "aperture", "portrait", "darkroom",
                     "shutter", "landscape shot", "flash", "film roll", "zoom", "exposure")
                    , ("cinematic", "monochrome", "sharp", "candid", "panoramic")),
    "pets": (("puppy", "kitten", "dog leash", "cat litter", "aquarium", "parrot", "hamster",
              "chew toy", "vet visit", "pet food", "dog park", "goldfish"),
             ("furry", "playful", "cuddly", "loyal", "fluffy")),
}
TOPIC_NAMES = tuple(TOPICS)

_USER_TEMPLATES = (
    "I keep coming back to the {n1} and the {n2}.",
    "Lately I have been reading a lot about the {a1} {n1}.",
    "Loved the {a1} {n1}, though the {n2} felt a bit {a2}.",
    "Looking for something with a {n1}, ideally {a1} and with a {n2}.",
    "My favourite part was the {n1}; the {n2} was {a1}.",
    "Bought this for the {n1} and stayed for the {a1} {n2}.",
    "Five stars for the {n1}, I want more {a1} {n2} stuff.",
    "Not sure about the {n2}, but the {a1} {n1} is great.",
)
_TITLE_TEMPLATES = ("The {A1} {N1}", "{N1} and {N2}", "A {A1} {N1}", "{N1}: {A1} Edition")
_DESC_TEMPLATES = (
    "A {a1} guide to the {n1} and the {n2}.",
    "Everything about the {n1}, with a {a1} {n2}.",
    "A {a1} story of a {n1} and a {n2}.",
)


def _check_k(n_topics: int) -> None:
    if not 1 <= n_topics <= len(TOPICS):
        raise ValueError(f"the text generator has {len(TOPICS)} topic vocabularies; "
                         f"n_topics={n_topics} is out of range 1..{len(TOPICS)}")


def _sentence_topics(rng: np.random.Generator, mixtures: np.ndarray, n_sent: int,
                     noise: float) -> np.ndarray:
    """[n, n_sent] topic per sentence: from each row's mixture, or uniform with prob noise."""
    n, k = mixtures.shape
    cdf = np.cumsum(mixtures, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random((n, n_sent))
    from_mix = (u[..., None] > cdf[:, None, :]).sum(axis=2)
    uniform = rng.integers(0, k, size=(n, n_sent))
    noisy = rng.random((n, n_sent)) < noise
    return np.where(noisy, uniform, np.minimum(from_mix, k - 1))


def _fill(rng, templates, topics: np.ndarray, capital: bool = False) -> list[str]:
    """One sentence per entry of ``topics`` (flat array), words from that topic."""
    m = len(topics)
    tpl = rng.integers(0, len(templates), size=m)
    r = rng.integers(0, 1 << 30, size=(m, 4))
    out = []
    for j in range(m):
        nouns, adjs = TOPICS[TOPIC_NAMES[topics[j]]]
        n1 = nouns[r[j, 0] % len(nouns)]
        n2 = nouns[(r[j, 0] + 1 + r[j, 1] % (len(nouns) - 1)) % len(nouns)]
        a1 = adjs[r[j, 2] % len(adjs)]
        a2 = adjs[(r[j, 2] + 1 + r[j, 3] % (len(adjs) - 1)) % len(adjs)]
        t = templates[tpl[j]]
        if capital:
            out.append(t.format(N1=n1.title(), N2=n2.title(), A1=a1.title()))
        else:
            out.append(t.format(n1=n1, n2=n2, a1=a1, a2=a2))
    return out


def topic_user_texts(rng: np.random.Generator, mixtures: np.ndarray, sentences: int = 4,
               noise: float = 0.2) -> list[str]:
    """Review-like text per user from their topic mixture (rows of ``mixtures`` sum to 1)."""
    _check_k(mixtures.shape[1])
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"text noise must lie in [0, 1], got {noise}")
    topics = _sentence_topics(rng, mixtures, sentences, noise)
    flat = _fill(rng, _USER_TEMPLATES, topics.reshape(-1))
    return [" ".join(flat[i * sentences:(i + 1) * sentences]) for i in range(len(mixtures))]


def topic_item_texts(rng: np.random.Generator, topics: np.ndarray, n_topics: int,
               noise: float = 0.2) -> list[str]:
    """A title and a one-sentence description per item, from its topic (noisy like users)."""
    _check_k(n_topics)
    n = len(topics)
    noisy = rng.random((n, 2)) < noise
    t = np.where(noisy, rng.integers(0, n_topics, size=(n, 2)), topics[:, None])
    titles = _fill(rng, _TITLE_TEMPLATES, t[:, 0], capital=True)
    descs = _fill(rng, _DESC_TEMPLATES, t[:, 1])
    return [f"{a}. {b}" for a, b in zip(titles, descs)]
