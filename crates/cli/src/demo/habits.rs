//! What the sample is made of: names, regions, industries and categories to
//! draw from, and the buying habits of each kind of customer, with the share
//! of persons that has each.

pub(super) const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloe", "David", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kira",
    "Luca", "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wim", "Yara",
];
pub(super) const LAST: &[&str] = &[
    "Adler", "Berg", "Costa", "Dahl", "Engel", "Fischer", "Garcia", "Horvat", "Ivanova", "Jensen",
    "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka",
    "Weber",
];
pub(super) const COMPANY: &[&str] = &[
    "Alder",
    "Birch",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Northwind",
    "Orbit",
    "Pioneer",
    "Quarry",
    "Ridge",
    "Summit",
    "Tidal",
];
pub(super) const SUFFIX: &[&str] = &[
    "Trading",
    "Supplies",
    "Logistics",
    "Foods",
    "Works",
    "Partners",
    "Retail",
];
pub(super) const REGIONS: &[&str] = &["north", "south", "east", "west", "central"];
pub(super) const INDUSTRIES: &[&str] = &[
    "retail",
    "manufacturing",
    "hospitality",
    "healthcare",
    "logistics",
];
pub(super) const AGE_BANDS: &[&str] = &["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
/// What customers buy, by taste: a customer draws every purchase's category
/// from one row, so the categories that share a row go together (groceries
/// with home, apparel with electronics): the demo's category affinity and
/// cross-sell list. One draw of five either way, as with one list of five.
pub(super) const TASTES: [[&str; 5]; 3] = [
    ["groceries", "groceries", "home", "home", "services"],
    [
        "apparel",
        "apparel",
        "electronics",
        "electronics",
        "services",
    ],
    ["groceries", "apparel", "electronics", "home", "services"],
];

/// Customer `id`'s row of [`TASTES`]: from the id, so it costs no draw
/// and every other figure of the sample stays as it was.
pub(super) fn taste(id: &str) -> &'static [&'static str; 5] {
    let sum: usize = id.bytes().map(usize::from).sum();
    &TASTES[sum % TASTES.len()]
}

/// How a kind of customer buys. Businesses' baskets are three to five times the
/// persons', not fifteen: one Gamma-Gamma spend model is fitted to every
/// customer of a tenant, and a few accounts ordering fifteen times what most
/// customers order lie beyond any one gamma distribution of means, so the fit
/// is refused and every lifetime value falls back to the customer's own mean.
#[derive(Clone, Copy)]
pub(super) struct Habit {
    /// What the sample's `habit` column calls it.
    pub(super) name: &'static str,
    /// person, business or intermediary.
    pub(super) kind: &'static str,
    /// Mean days between purchases.
    pub(super) gap_days: f64,
    /// Median basket in EUR.
    pub(super) basket: f64,
}

pub(super) const INTERMEDIARY: Habit = Habit {
    name: "intermediary",
    kind: "intermediary",
    gap_days: 45.0,
    basket: 260.0,
};
pub(super) const HEAD_OFFICE: Habit = Habit {
    name: "head-office",
    kind: "business",
    gap_days: 60.0,
    basket: 320.0,
};
pub(super) const BUSINESS: Habit = Habit {
    name: "business",
    kind: "business",
    gap_days: 21.0,
    basket: 190.0,
};
pub(super) const PERSONS: &[(f64, Habit)] = &[
    (
        0.15,
        Habit {
            name: "loyal",
            kind: "person",
            gap_days: 12.0,
            basket: 75.0,
        },
    ),
    (
        0.30,
        Habit {
            name: "regular",
            kind: "person",
            gap_days: 30.0,
            basket: 55.0,
        },
    ),
    (
        0.30,
        Habit {
            name: "occasional",
            kind: "person",
            gap_days: 95.0,
            basket: 60.0,
        },
    ),
    (
        0.15,
        Habit {
            name: "one-time",
            kind: "person",
            gap_days: f64::INFINITY,
            basket: 45.0,
        },
    ),
    (
        0.10,
        Habit {
            name: "lapsed",
            kind: "person",
            gap_days: 25.0,
            basket: 65.0,
        },
    ),
];
