#include "placement/candidates/candidates.h"

#include <algorithm>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "placement/candidates/group_candidates.h"

namespace bwfloor::placement {
namespace {

using candidates::Alloc;
using candidates::Entry;
using candidates::GroupCandidates;
using candidates::PtrMap;

const std::string kSharingTrait = "MISC_SHARES_VIA_AGGREGATE";

bool hasAny(const std::set<std::string>& have, const std::set<std::string>& anyOf) {
  return std::any_of(anyOf.begin(), anyOf.end(),
                     [&](const std::string& x) { return have.count(x) > 0; });
}
// Every term holds on `have` (required: one of anyOf present; forbidden: none present); or only
// the required ones, or only the forbidden ones.
bool termsHold(const std::set<std::string>& have, const std::vector<SetTerm>& terms) {
  return std::all_of(terms.begin(), terms.end(),
                     [&](const SetTerm& t) { return hasAny(have, t.anyOf) != t.forbidden; });
}
bool requiredHold(const std::set<std::string>& have, const std::vector<SetTerm>& terms) {
  return std::all_of(terms.begin(), terms.end(),
                     [&](const SetTerm& t) { return t.forbidden || hasAny(have, t.anyOf); });
}
bool forbiddenHold(const std::set<std::string>& have, const std::vector<SetTerm>& terms) {
  return std::all_of(terms.begin(), terms.end(),
                     [&](const SetTerm& t) { return !t.forbidden || !hasAny(have, t.anyOf); });
}

// A group's trait terms as the model's trait ids, with their Bloom masks (Provider::traitBloom):
// a provider whose filter misses a term's mask has none of the term's traits; the others are
// looked up in the provider's sorted trait ids. Either way no walk of the provider's trait set
// of strings (a chain of cache misses per provider, thousands of providers per request).
class TraitTerms {
 public:
  TraitTerms(const PlacementModel& model, const std::vector<SetTerm>& terms) {
    for (const auto& t : terms) {
      Term& term = terms_.emplace_back();
      term.forbidden = t.forbidden;
      for (const auto& x : t.anyOf) {
        term.mask |= traitBloomBit(x);
        term.ids.push_back(model.traitIdUnlocked(x));
      }
    }
  }
  // Every term holds on p.
  bool hold(const Provider& p) const {
    return std::all_of(terms_.begin(), terms_.end(),
                       [&](const Term& t) { return has(p, t) != t.forbidden; });
  }
  // No forbidden term is violated by p.
  bool forbiddenHold(const Provider& p) const {
    return std::none_of(terms_.begin(), terms_.end(),
                        [&](const Term& t) { return t.forbidden && has(p, t); });
  }
  // Every required term is held by one of `providerAt(0)` .. `providerAt(n - 1)` (the providers
  // a tree group takes its classes from, together).
  template <class ProviderAt>
  bool requiredHeldByAny(size_t n, ProviderAt providerAt) const {
    return std::all_of(terms_.begin(), terms_.end(), [&](const Term& t) {
      if (t.forbidden) return true;
      for (size_t i = 0; i < n; ++i) {
        if (has(providerAt(i), t)) return true;
      }
      return false;
    });
  }

 private:
  struct Term {
    std::vector<uint32_t> ids;
    uint64_t mask = 0;
    bool forbidden = false;
  };
  static bool has(const Provider& p, const Term& t) {
    if ((p.traitBloom & t.mask) == 0) return false;
    return std::any_of(t.ids.begin(), t.ids.end(), [&](uint32_t id) {
      return std::binary_search(p.traitIds.begin(), p.traitIds.end(), id);
    });
  }
  std::vector<Term> terms_;
};

// Per class of a tree group, the (anchor, provider) pairs that can supply it, then grouped by
// anchor (anchor sequence numbers come from the first class).
struct ClassOptions {
  struct Option {
    const Provider* provider;
    int64_t used;
    const Inventory* inventory;
  };
  std::vector<std::pair<uint32_t, Option>> pairs;
  std::vector<uint32_t> offsets;  // anchor seq -> start in `options`
  std::vector<Option> options;

  void group(size_t anchors) {
    offsets.assign(anchors + 1, 0);
    for (const auto& [seq, o] : pairs) ++offsets[seq + 1];
    for (size_t i = 1; i < offsets.size(); ++i) offsets[i] += offsets[i - 1];
    options.resize(pairs.size());
    std::vector<uint32_t> next(offsets.begin(), offsets.end() - 1);
    for (const auto& [seq, o] : pairs) options[next[seq]++] = o;
  }
  size_t count(uint32_t seq) const { return offsets[seq + 1] - offsets[seq]; }
  const Option& at(uint32_t seq, size_t i) const { return options[offsets[seq] + i]; }
};

class Engine {
 public:
  Engine(const PlacementModel& model, const CandidateRequest& request)
      : model_(model), request_(request), providers_(model.providersUnlocked()) {}

  CandidateSet run();

 private:
  const Provider* find(const std::string& uuid) const {
    auto it = providers_.find(uuid);
    return it == providers_.end() ? nullptr : &it->second;
  }
  static const Provider* rootOf(const Provider& p) { return p.root; }
  const Provider* parentOf(const Provider& p) const {
    return p.parentUuid.empty() ? nullptr : find(p.parentUuid);
  }
  // The provider's inventory and usage of a class (a model class id), or null.
  static const Provider::ClassState* stateOf(const Provider& p, uint32_t id) {
    for (const auto& state : p.classes) {
      if (state.id == id) return &state;
    }
    return nullptr;
  }
  // Whether `amount` fits on p as a whole: capacity and unit rules.
  static bool fits(const Provider& p, uint32_t id, int64_t amount) {
    const Provider::ClassState* state = stateOf(p, id);
    return state && fitsInventory(state->inventory, state->used, amount);
  }
  static bool fitsInventory(const Inventory& inv, int64_t used, int64_t amount) {
    return used + amount <= inv.capacity() && amount >= inv.minUnit && amount <= inv.maxUnit &&
           amount % inv.stepSize == 0;
  }
  bool anchorAllowed(const Provider* root) const {
    return !anchorRoots_ || anchorRoots_->count(root) > 0;
  }
  bool isSharing(const Provider& p) const {
    return request_.sharingPossible && p.traits.count(kSharingTrait) > 0;
  }
  int classIndex(const std::string& rc);
  const std::vector<const Provider*>& sharingAnchors(const Provider& p);
  bool treeRoot(const RequestGroup& g, const Provider*& root) const;
  bool usesTreePath(const RequestGroup& g) const;

  // `tree`: only these providers (one tree, visited lazily); null: every provider.
  using Providers = std::vector<const Provider*>;
  void singleProviderGroup(const RequestGroup& g, const Providers* tree, GroupCandidates& out);
  void treeGroup(const RequestGroup& g, const Providers* tree, GroupCandidates& out);
  bool findGroups(const Providers* tree);
  void collectTree(const Provider* root, Providers& out) const;
  bool runLazily();
  void addTreeEntries(const RequestGroup& g, const TraitTerms& traits, const std::vector<int>& rcs,
                      const std::vector<ClassOptions>& perClass, uint32_t seq,
                      const Provider* anchor, GroupCandidates& out);
  void prepareMerge();
  void merge();
  void descend(size_t depth);
  bool sameSubtreeHolds(const std::vector<std::string>& suffixes) const;
  bool isAncestorOrSelf(const Provider* a, const Provider* b) const;
  void emit();
  void summarize();
  bool full() const { return set_.items.size() >= cap_; }

  const PlacementModel& model_;
  const CandidateRequest& request_;
  const std::unordered_map<std::string, Provider>& providers_;
  std::optional<std::unordered_set<const Provider*>> anchorRoots_;
  std::unordered_map<std::string, std::vector<const Provider*>> byAggregate_;
  std::unordered_map<const Provider*, std::vector<const Provider*>> sharingAnchorCache_;
  bool sharingSeen_ = false;  // a sharing provider serves another tree: results may repeat
  size_t cap_ = 0;

  // Merge state.
  std::vector<GroupCandidates> groups_;
  std::vector<std::pair<const uint32_t*, const uint32_t*>> options_;  // current anchor's entries
  std::vector<const Entry*> chosen_;
  std::vector<std::tuple<const Provider*, int, int64_t>> sums_;
  std::vector<const Provider*> suffixedUsed_;
  std::vector<std::vector<size_t>> subtreeChecksAt_;  // depth -> same_subtree sets complete there
  std::unordered_set<std::string> seen_;
  std::vector<size_t> idx_;                         // addTreeEntries scratch
  std::vector<const ClassOptions::Option*> combo_;  // addTreeEntries scratch
  // Trees that runLazily took candidates from, for summarize: root -> [begin, end) in members.
  Providers lazyTreeMembers_;
  PtrMap<std::pair<uint32_t, uint32_t>> lazyTrees_;
  CandidateSet set_;
};

int Engine::classIndex(const std::string& rc) {
  auto& classes = set_.classes;
  auto it = std::find(classes.begin(), classes.end(), rc);
  if (it != classes.end()) return static_cast<int>(it - classes.begin());
  classes.push_back(rc);
  return static_cast<int>(classes.size() - 1);
}

// Placement's anchors_for_sharing_providers: the roots of every provider that shares an
// aggregate with p, and p's own root.
const std::vector<const Provider*>& Engine::sharingAnchors(const Provider& p) {
  auto it = sharingAnchorCache_.find(&p);
  if (it != sharingAnchorCache_.end()) return it->second;
  if (byAggregate_.empty()) {
    for (const auto& [uuid, q] : providers_) {
      for (const auto& a : q.aggregates) byAggregate_[a].push_back(&q);
    }
  }
  std::vector<const Provider*> anchors{rootOf(p)};
  for (const auto& a : p.aggregates) {
    for (const Provider* q : byAggregate_[a]) {
      const Provider* r = rootOf(*q);
      if (std::find(anchors.begin(), anchors.end(), r) == anchors.end()) anchors.push_back(r);
    }
  }
  return sharingAnchorCache_[&p] = std::move(anchors);
}

// in_tree: false when the uuid is unknown (the group, hence the answer, is empty).
bool Engine::treeRoot(const RequestGroup& g, const Provider*& root) const {
  root = nullptr;
  if (!g.inTree) return true;
  const Provider* p = find(*g.inTree);
  if (p) root = rootOf(*p);
  return p != nullptr;
}

// Placement takes the tree path for the unsuffixed group when any provider has a parent or any
// provider shares via an aggregate. In a flat cloud that path gives the same answer as the
// single-provider one unless a sharing provider has one of the group's classes.
bool Engine::usesTreePath(const RequestGroup& g) const {
  if (!g.suffix.empty() || g.resources.empty()) return false;
  if (model_.hasTreesUnlocked()) return true;
  if (!request_.sharingPossible) return false;
  for (const auto& [rc, amount] : g.resources) {
    const auto* set = model_.providersWithClassUnlocked(rc);
    if (!set) return false;
    for (const Provider* p : *set) {
      if (isSharing(*p)) return true;
    }
  }
  return false;
}

// A group satisfied by one provider (suffixed groups, and the unsuffixed one in a flat cloud):
// that provider has every class, every required term and no forbidden trait itself, and is in
// the aggregates itself. Its anchor is its root; a sharing provider serves every tree it shares
// an aggregate with.
void Engine::singleProviderGroup(const RequestGroup& g, const Providers* only,
                                 GroupCandidates& out) {
  const Provider* tree = nullptr;
  if (!treeRoot(g, tree)) return;
  std::vector<int> rcs;
  for (const auto& [rc, amount] : g.resources) rcs.push_back(classIndex(rc));
  std::vector<uint32_t> ids;
  for (const auto& [rc, amount] : g.resources) ids.push_back(model_.classIdUnlocked(rc));
  std::vector<const Provider::ClassState*> states(g.resources.size());
  const TraitTerms traits(model_, g.traits);
  auto consider = [&](const Provider& p) {
    // Cheapest test first: traits reject most providers of a class (other physnets, vnic types).
    if (!traits.hold(p) || !termsHold(p.aggregates, g.memberOf)) return;
    size_t i = 0;
    for (const auto& [rc, amount] : g.resources) {
      states[i] = stateOf(p, ids[i]);
      if (!states[i] || !fitsInventory(states[i]->inventory, states[i]->used, amount)) return;
      ++i;
    }
    const Provider* root = rootOf(p);
    if (!root || (tree && root != tree)) return;
    uint32_t e = out.open();
    i = 0;
    for (const auto& [rc, amount] : g.resources) {
      out.allocs.push_back({&p, rcs[i], amount, states[i]->used, &states[i]->inventory});
      ++i;
    }
    out.mapped.push_back(&p);
    out.close(e);
    if (anchorAllowed(root)) out.add(root, e);
    if (isSharing(p)) {
      for (const Provider* anchor : sharingAnchors(p)) {
        if (anchor == root || !anchorAllowed(anchor)) continue;
        out.add(anchor, e);
        sharingSeen_ = true;
      }
    }
  };
  if (only) {
    for (const Provider* p : *only) consider(*p);
    return;
  }
  if (g.resources.empty()) {
    for (const auto& [uuid, p] : providers_) consider(p);
    return;
  }
  const ProviderSet* smallest = nullptr;  // walk the rarest class's providers only
  for (const auto& [rc, amount] : g.resources) {
    const auto* set = model_.providersWithClassUnlocked(rc);
    if (!set) return;
    if (!smallest || set->size() < smallest->size()) smallest = set;
  }
  for (const Provider* p : *smallest) consider(*p);
}

// The unsuffixed group when trees or sharing providers are in play: each class from any provider
// of the anchor's tree (or a sharing provider serving it). Placement checks member_of on
// (provider, anchor) pairs: the provider or the anchor is in all the required aggregates, neither
// is in a forbidden one. Required traits are met by the providers of one combination together;
// no provider used carries a forbidden trait.
void Engine::treeGroup(const RequestGroup& g, const Providers* only, GroupCandidates& out) {
  const Provider* tree = nullptr;
  if (!treeRoot(g, tree)) return;
  auto inAll = [&](const Provider& q) { return requiredHold(q.aggregates, g.memberOf); };
  auto inAny = [&](const Provider& q) { return !forbiddenHold(q.aggregates, g.memberOf); };
  const TraitTerms traits(model_, g.traits);
  std::vector<int> rcs;
  std::vector<ClassOptions> perClass(g.resources.size());
  PtrMap<uint32_t> seqOf;                // anchor -> sequence number, from the first class
  std::vector<const Provider*> anchors;  // by sequence number
  size_t c = 0;
  for (const auto& requested : g.resources) {
    const std::string& rc = requested.first;  // (lambdas below may not capture bindings)
    int64_t amount = requested.second;
    const auto* set = model_.providersWithClassUnlocked(rc);
    if (!set) return;
    rcs.push_back(classIndex(rc));
    uint32_t id = model_.classIdUnlocked(rc);
    auto& options = perClass[c];
    auto consider = [&](const Provider* p) {
      const Provider* root = rootOf(*p);
      if (!root || (tree && root != tree)) return;
      const Provider::ClassState* state = stateOf(*p, id);
      if (!state || !fitsInventory(state->inventory, state->used, amount) ||
          !traits.forbiddenHold(*p)) {
        return;
      }
      ClassOptions::Option option{p, state->used, &state->inventory};
      bool selfIn = inAll(*p);  // also true when member_of names no required aggregate
      auto offer = [&](const Provider* anchor) {
        if (!anchorAllowed(anchor)) return;
        if ((!selfIn && !inAll(*anchor)) || inAny(*p) || inAny(*anchor)) return;
        auto seq = static_cast<uint32_t>(anchors.size());
        if (c == 0) {
          if (seqOf.insert(anchor, seq).second) anchors.push_back(anchor);
          seq = *seqOf.find(anchor);
        } else if (const uint32_t* known = seqOf.find(anchor)) {
          seq = *known;
        } else {
          return;  // the first class has nothing under this anchor
        }
        options.pairs.emplace_back(seq, option);
      };
      offer(root);
      // A sharing provider serves the trees it shares an aggregate with (when it is itself in
      // the required aggregates).
      if (!tree && selfIn && isSharing(*p)) {
        for (const Provider* anchor : sharingAnchors(*p)) {
          if (anchor == root) continue;
          offer(anchor);
          sharingSeen_ = true;
        }
      }
    };
    if (only) {
      for (const Provider* p : *only) consider(p);
    } else {
      for (const Provider* p : *set) consider(p);
    }
    if (options.pairs.empty()) return;
    ++c;
  }
  if (perClass.empty()) return;
  for (auto& options : perClass) options.group(anchors.size());
  for (uint32_t seq = 0; seq < anchors.size(); ++seq) {
    bool all = std::all_of(perClass.begin(), perClass.end(),
                           [&](const ClassOptions& o) { return o.count(seq) > 0; });
    if (all) addTreeEntries(g, traits, rcs, perClass, seq, anchors[seq], out);
  }
}

// The Cartesian product over classes of one anchor's providers, kept when the providers used
// together hold every required term.
void Engine::addTreeEntries(const RequestGroup& g, const TraitTerms& traits,
                            const std::vector<int>& rcs, const std::vector<ClassOptions>& perClass,
                            uint32_t seq, const Provider* anchor, GroupCandidates& out) {
  idx_.assign(perClass.size(), 0);
  combo_.resize(perClass.size());
  while (true) {
    for (size_t c = 0; c < perClass.size(); ++c) combo_[c] = &perClass[c].at(seq, idx_[c]);
    if (traits.requiredHeldByAny(
            combo_.size(), [&](size_t c) -> const Provider& { return *combo_[c]->provider; })) {
      uint32_t e = out.open();
      size_t c = 0;
      for (const auto& [rc, amount] : g.resources) {
        const Provider* p = combo_[c]->provider;
        out.allocs.push_back({p, rcs[c], amount, combo_[c]->used, combo_[c]->inventory});
        if (std::find(out.mapped.begin() + out.entries[e].mappedBegin, out.mapped.end(), p) ==
            out.mapped.end()) {
          out.mapped.push_back(p);
        }
        ++c;
      }
      out.close(e);
      out.add(anchor, e);
    }
    size_t c = 0;
    while (c < idx_.size() && ++idx_[c] == perClass[c].count(seq)) idx_[c++] = 0;
    if (c == idx_.size()) break;
  }
}

bool Engine::isAncestorOrSelf(const Provider* a, const Provider* b) const {
  for (const Provider* p = b; p; p = parentOf(*p)) {
    if (p == a) return true;
  }
  return false;
}

// One provider of the set's mapped providers is an ancestor-or-self of all the others.
bool Engine::sameSubtreeHolds(const std::vector<std::string>& suffixes) const {
  std::vector<const Provider*> members;
  for (size_t i = 0; i < chosen_.size(); ++i) {
    const std::string& s = request_.groups[i].suffix;
    if (std::find(suffixes.begin(), suffixes.end(), s) == suffixes.end()) continue;
    const GroupCandidates& gc = groups_[i];
    for (uint32_t m = chosen_[i]->mappedBegin; m < chosen_[i]->mappedEnd; ++m) {
      if (std::find(members.begin(), members.end(), gc.mapped[m]) == members.end()) {
        members.push_back(gc.mapped[m]);
      }
    }
  }
  return std::any_of(members.begin(), members.end(), [&](const Provider* top) {
    return std::all_of(members.begin(), members.end(),
                       [&](const Provider* m) { return isAncestorOrSelf(top, m); });
  });
}

// Consolidates the chosen entries into one item: amounts of one (provider, class) summed, mapped
// providers sorted and unique per group.
void Engine::emit() {
  auto& allocs = set_.allocs;
  auto& mappings = set_.mappings;
  size_t a0 = allocs.size();
  size_t m0 = mappings.size();
  for (size_t i = 0; i < chosen_.size(); ++i) {
    const GroupCandidates& gc = groups_[i];
    for (uint32_t a = chosen_[i]->allocBegin; a < chosen_[i]->allocEnd; ++a) {
      allocs.push_back({gc.allocs[a].provider, gc.allocs[a].rc, gc.allocs[a].amount});
    }
    for (uint32_t m = chosen_[i]->mappedBegin; m < chosen_[i]->mappedEnd; ++m) {
      mappings.push_back({static_cast<int>(i), gc.mapped[m]});
    }
  }
  const auto& classes = set_.classes;
  auto from = [](auto& v, size_t i) { return v.begin() + static_cast<std::ptrdiff_t>(i); };
  std::sort(from(allocs, a0), allocs.end(), [&](const auto& x, const auto& y) {
    if (x.provider != y.provider) return x.provider->uuid < y.provider->uuid;
    return classes[x.rc] < classes[y.rc];
  });
  size_t w = a0;
  for (size_t r = a0; r < allocs.size(); ++r) {
    if (w > a0 && allocs[w - 1].provider == allocs[r].provider &&
        allocs[w - 1].rc == allocs[r].rc) {
      allocs[w - 1].amount += allocs[r].amount;
    } else {
      allocs[w++] = allocs[r];
    }
  }
  allocs.resize(w);
  std::sort(from(mappings, m0), mappings.end(), [](const auto& x, const auto& y) {
    return x.group != y.group ? x.group < y.group : x.provider->uuid < y.provider->uuid;
  });
  mappings.erase(std::unique(from(mappings, m0), mappings.end(),
                             [](const auto& x, const auto& y) {
                               return x.group == y.group && x.provider == y.provider;
                             }),
                 mappings.end());
  auto reject = [&] {
    allocs.resize(a0);
    mappings.resize(m0);
  };
  if (!request_.nestedAware && model_.hasTreesUnlocked()) {
    // Before 1.29 a request may not use two providers of one tree.
    std::vector<const Provider*> roots;
    for (size_t a = a0; a < allocs.size(); ++a) {
      if (a > a0 && allocs[a].provider == allocs[a - 1].provider) continue;
      const Provider* root = rootOf(*allocs[a].provider);
      if (std::find(roots.begin(), roots.end(), root) != roots.end()) return reject();
      roots.push_back(root);
    }
  }
  if (sharingSeen_) {
    // The same providers may serve several anchors; Placement's answer is a set.
    std::string key;
    auto put = [&](const auto& field) {
      key.append(reinterpret_cast<const char*>(&field), sizeof field);
    };
    for (size_t a = a0; a < allocs.size(); ++a) {
      put(reinterpret_cast<uintptr_t>(allocs[a].provider));
      put(allocs[a].rc);
      put(allocs[a].amount);
    }
    for (size_t m = m0; m < mappings.size(); ++m) {
      put(mappings[m].group);
      put(reinterpret_cast<uintptr_t>(mappings[m].provider));
    }
    if (!seen_.insert(std::move(key)).second) return reject();
  }
  set_.items.push_back({static_cast<uint32_t>(a0), static_cast<uint32_t>(allocs.size()),
                        static_cast<uint32_t>(m0), static_cast<uint32_t>(mappings.size())});
}

// Chooses an entry of group `depth` under the current anchor; prunes on the summed capacity,
// group_policy=isolate and same_subtree as soon as they can be decided.
void Engine::descend(size_t depth) {
  if (depth == groups_.size()) {
    emit();
    return;
  }
  const GroupCandidates& gc = groups_[depth];
  bool suffixed = !request_.groups[depth].suffix.empty();
  for (const uint32_t* it = options_[depth].first; it != options_[depth].second; ++it) {
    if (full()) return;
    const Entry& e = gc.entries[*it];
    if (request_.isolate && suffixed &&
        std::any_of(gc.mapped.begin() + e.mappedBegin, gc.mapped.begin() + e.mappedEnd,
                    [&](const Provider* p) {
                      return std::find(suffixedUsed_.begin(), suffixedUsed_.end(), p) !=
                             suffixedUsed_.end();
                    })) {
      continue;
    }
    size_t mark = sums_.size();
    bool ok = true;
    for (uint32_t a = e.allocBegin; a < e.allocEnd && ok; ++a) {
      const Alloc& al = gc.allocs[a];
      int64_t total = al.amount;
      for (const auto& [p, rc, n] : sums_) {
        if (p == al.provider && rc == al.rc) total += n;
      }
      ok = al.used + total <= al.inventory->capacity() && total <= al.inventory->maxUnit;
      sums_.emplace_back(al.provider, al.rc, al.amount);
    }
    if (ok) {
      size_t usedMark = suffixedUsed_.size();
      if (suffixed) {
        suffixedUsed_.insert(suffixedUsed_.end(), gc.mapped.begin() + e.mappedBegin,
                             gc.mapped.begin() + e.mappedEnd);
      }
      chosen_.push_back(&e);
      for (size_t s : subtreeChecksAt_[depth]) ok = ok && sameSubtreeHolds(request_.sameSubtree[s]);
      if (ok) descend(depth + 1);
      chosen_.pop_back();
      suffixedUsed_.resize(usedMark);
    }
    sums_.resize(mark);
  }
}

void Engine::prepareMerge() {
  subtreeChecksAt_.assign(groups_.size(), {});
  for (size_t s = 0; s < request_.sameSubtree.size(); ++s) {
    size_t last = 0;
    for (size_t i = 0; i < request_.groups.size(); ++i) {
      const auto& set = request_.sameSubtree[s];
      if (std::find(set.begin(), set.end(), request_.groups[i].suffix) != set.end()) last = i;
    }
    subtreeChecksAt_[last].push_back(s);
  }
  options_.assign(groups_.size(), {nullptr, nullptr});
}

// Anchors in the first group's order; an anchor needs entries in every group.
void Engine::merge() {
  for (const Provider* anchor : groups_[0].anchors) {
    bool all = true;
    for (size_t i = 0; i < groups_.size() && all; ++i) {
      options_[i] = groups_[i].entriesOf(anchor);
      all = options_[i].first != options_[i].second;
    }
    if (all) descend(0);
    if (full()) return;
  }
}

// provider_summaries: from 1.29 every provider of every tree a request takes resources from;
// before, only the providers used.
void Engine::summarize() {
  std::vector<const Provider*> roots;
  PtrMap<uint32_t> seqOf;
  for (const auto& item : set_.items) {
    for (uint32_t a = item.allocBegin; a < item.allocEnd; ++a) {
      const Provider* p = set_.allocs[a].provider;
      const Provider* top = request_.nestedAware ? rootOf(*p) : p;
      if (seqOf.insert(top, static_cast<uint32_t>(roots.size())).second) roots.push_back(top);
    }
  }
  auto& out = set_.summaryProviders;
  if (!request_.nestedAware) {
    out = std::move(roots);
    return;
  }
  Providers tree;
  if (lazyTrees_.size() > 0) {  // the trees used were collected while searching
    for (const Provider* root : roots) {
      if (const auto* span = lazyTrees_.find(root)) {
        out.insert(out.end(), lazyTreeMembers_.begin() + span->first,
                   lazyTreeMembers_.begin() + span->second);
      } else {
        collectTree(root, tree);
        out.insert(out.end(), tree.begin(), tree.end());
      }
    }
    return;
  }
  if (roots.size() * 8 >= providers_.size()) {
    // Most trees: one pass over every provider beats a walk down each tree.
    std::vector<std::pair<uint32_t, const Provider*>> found;
    for (const auto& [uuid, p] : providers_) {
      if (const uint32_t* seq = p.root ? seqOf.find(p.root) : nullptr) found.emplace_back(*seq, &p);
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [seq, p] : found) out.push_back(p);
    return;
  }
  for (const Provider* root : roots) {
    collectTree(root, tree);
    out.insert(out.end(), tree.begin(), tree.end());
  }
}

// Every group's candidates (over every provider, or one tree's); false when one has none.
bool Engine::findGroups(const Providers* tree) {
  for (size_t i = 0; i < request_.groups.size(); ++i) {
    const RequestGroup& g = request_.groups[i];
    groups_[i].clear();
    if (usesTreePath(g)) {
      treeGroup(g, tree, groups_[i]);
    } else {
      singleProviderGroup(g, tree, groups_[i]);
    }
    if (groups_[i].entries.empty()) return false;
    groups_[i].finish();
  }
  return true;
}

void Engine::collectTree(const Provider* root, Providers& out) const {
  const auto& children = model_.childrenUnlocked();
  out.assign(1, root);
  for (size_t i = 0; i < out.size(); ++i) {
    auto it = children.find(out[i]->uuid);
    if (it == children.end()) continue;
    for (const auto& c : it->second) {
      if (const Provider* child = find(c)) out.push_back(child);
    }
  }
}

// With a limit and no sharing, any N candidates will do (Placement returns the first N of an
// undefined order): visit trees one at a time and stop as soon as there are enough. The trees
// come from the providers of one requested class (the "driver"): the one with the fewest
// providers that can take the amount, estimated on a sample (after a claim storm most hosts may
// be full for one class and empty for another). False when this does not apply (no limit,
// sharing, or a limit above the driver's providers).
bool Engine::runLazily() {
  if (cap_ >= request_.maxCandidates || request_.sharingPossible) return false;
  std::map<std::string, int64_t> smallest;  // class -> the smallest amount a group asks for
  for (const auto& g : request_.groups) {
    for (const auto& [rc, amount] : g.resources) {
      auto [it, fresh] = smallest.try_emplace(rc, amount);
      if (!fresh) it->second = std::min(it->second, amount);
    }
  }
  const ProviderSet* driver = nullptr;
  uint32_t driverId = PlacementModel::kNoClassId;
  int64_t driverAmount = 0;
  double best = 0;
  for (const auto& [rc, amount] : smallest) {
    const auto* set = model_.providersWithClassUnlocked(rc);
    if (!set) return true;  // nothing has this class: no candidates
    constexpr size_t kSample = 32;
    size_t sampled = 0;
    size_t fitting = 0;
    uint32_t id = model_.classIdUnlocked(rc);
    for (auto it = set->begin(); it != set->end() && sampled < kSample; ++it, ++sampled) {
      fitting += fits(**it, id, amount) ? 1 : 0;
    }
    double estimate = static_cast<double>(set->size()) * static_cast<double>(fitting + 1) /
                      static_cast<double>(sampled + 1);
    if (!driver || estimate < best) {
      driver = set;
      driverId = id;
      driverAmount = amount;
      best = estimate;
    }
  }
  if (!driver || cap_ >= driver->size()) return false;
  PtrMap<char> visited;
  Providers tree;
  for (const Provider* p : *driver) {
    // A tree is worth a visit only if one of its providers can take the amount.
    if (!fits(*p, driverId, driverAmount)) continue;
    const Provider* root = rootOf(*p);
    if (!root || !visited.insert(root, 1).second || !anchorAllowed(root)) continue;
    collectTree(root, tree);
    if (!findGroups(&tree)) continue;
    options_.clear();
    for (const auto& group : groups_) options_.push_back(group.entriesOf(root));
    size_t before = set_.items.size();
    descend(0);
    if (set_.items.size() > before) {
      auto begin = static_cast<uint32_t>(lazyTreeMembers_.size());
      lazyTreeMembers_.insert(lazyTreeMembers_.end(), tree.begin(), tree.end());
      lazyTrees_.insert(root, {begin, static_cast<uint32_t>(lazyTreeMembers_.size())});
    }
    if (full()) break;
  }
  return true;
}

CandidateSet Engine::run() {
  cap_ = request_.maxCandidates;
  if (request_.limit && !request_.randomize) cap_ = std::min(cap_, *request_.limit);
  if (!request_.rootRequired.empty()) {
    anchorRoots_.emplace();
    for (const auto& [uuid, p] : providers_) {
      if (p.parentUuid.empty() && termsHold(p.traits, request_.rootRequired)) {
        anchorRoots_->insert(&p);
      }
    }
    if (anchorRoots_->empty()) return std::move(set_);
  }
  if (request_.groups.empty()) return std::move(set_);
  groups_.resize(request_.groups.size());
  prepareMerge();
  if (!runLazily() && findGroups(nullptr)) merge();
  if (request_.randomize) {
    std::mt19937_64 rng(std::random_device{}());
    std::shuffle(set_.items.begin(), set_.items.end(), rng);
    if (request_.limit && set_.items.size() > *request_.limit) set_.items.resize(*request_.limit);
  }
  summarize();
  return std::move(set_);
}

}  // namespace

CandidateSet findCandidateSet(const PlacementModel& model, const CandidateRequest& request) {
  return Engine(model, request).run();
}

CandidateResult findCandidates(const PlacementModel& model, const CandidateRequest& request) {
  CandidateSet set = findCandidateSet(model, request);
  CandidateResult out;
  out.requests.reserve(set.items.size());
  for (const auto& item : set.items) {
    AllocationRequest& req = out.requests.emplace_back();
    for (uint32_t a = item.allocBegin; a < item.allocEnd; ++a) {
      const auto& al = set.allocs[a];
      req.allocations[al.provider->uuid][set.classes[al.rc]] = al.amount;
    }
    for (uint32_t m = item.mappingBegin; m < item.mappingEnd; ++m) {
      const auto& mp = set.mappings[m];
      req.mappings[request.groups[mp.group].suffix].push_back(mp.provider->uuid);
    }
  }
  out.summaryProviders = std::move(set.summaryProviders);
  return out;
}

}  // namespace bwfloor::placement
