#include "placement/candidates/candidates.h"

#include <algorithm>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace bwfloor::placement {
namespace {

constexpr const char* kSharingTrait = "MISC_SHARES_VIA_AGGREGATE";

// One way a group can be satisfied under one anchor root.
struct GroupEntry {
  std::vector<std::pair<const Provider*, ResourceAmounts>> allocs;
  std::vector<const Provider*> mapped;  // providers the group's mapping names
};
using ByAnchor = std::map<std::string, std::vector<GroupEntry>>;

bool termsHold(const std::set<std::string>& have, const std::vector<SetTerm>& terms) {
  for (const auto& term : terms) {
    bool any = std::any_of(term.anyOf.begin(), term.anyOf.end(),
                           [&](const std::string& x) { return have.count(x) > 0; });
    if (any == term.forbidden) return false;
  }
  return true;
}

class Engine {
 public:
  Engine(const PlacementModel& model, const CandidateRequest& request)
      : model_(model),
        request_(request),
        providers_(model.providersUnlocked()),
        usage_(model.usageUnlocked()) {}

  CandidateResult run();

 private:
  const Provider* find(const std::string& uuid) const {
    auto it = providers_.find(uuid);
    return it == providers_.end() ? nullptr : &it->second;
  }
  int64_t used(const Provider& p, const std::string& rc) const {
    auto it = usage_.find(p.uuid);
    if (it == usage_.end()) return 0;
    auto jt = it->second.find(rc);
    return jt == it->second.end() ? 0 : jt->second;
  }
  bool fits(const Provider& p, const std::string& rc, int64_t amount) const {
    auto it = p.inventories.find(rc);
    if (it == p.inventories.end()) return false;
    const Inventory& inv = it->second;
    return used(p, rc) + amount <= inv.capacity() && amount >= inv.minUnit &&
           amount <= inv.maxUnit && amount % inv.stepSize == 0;
  }
  // member_of: the provider itself, or (for the unsuffixed group) its root, is in the aggregate.
  bool inAggregates(const Provider& p, const std::vector<SetTerm>& terms, bool spanRoot) const {
    const Provider* root = spanRoot ? find(p.rootUuid) : nullptr;
    for (const auto& term : terms) {
      bool any = std::any_of(term.anyOf.begin(), term.anyOf.end(), [&](const std::string& a) {
        return p.aggregates.count(a) > 0 || (root && root->aggregates.count(a) > 0);
      });
      if (any == term.forbidden) return false;
    }
    return true;
  }
  bool anchorAllowed(const std::string& root) const {
    return !anchorRoots_ || anchorRoots_->count(root) > 0;
  }
  bool isSharing(const Provider& p) const { return p.traits.count(kSharingTrait) > 0; }
  const std::set<std::string>& sharingAnchors(const Provider& p);
  std::optional<std::string> treeRoot(const RequestGroup& g, bool& unknownTree) const;

  ByAnchor singleProviderGroup(const RequestGroup& g);
  ByAnchor treeGroup(const RequestGroup& g);
  void merge(const std::vector<ByAnchor>& perGroup);
  void descend(const std::vector<const std::vector<GroupEntry>*>& options, size_t depth);
  bool sameSubtreeHolds() const;
  bool isAncestorOrSelf(const Provider* a, const Provider* b) const;
  void emit();
  bool full() const {
    size_t cap = request_.maxCandidates;
    if (request_.limit && !request_.randomize) cap = std::min(cap, *request_.limit);
    return out_.requests.size() >= cap;
  }

  const PlacementModel& model_;
  const CandidateRequest& request_;
  const std::unordered_map<std::string, Provider>& providers_;
  const std::unordered_map<std::string, ResourceAmounts>& usage_;
  std::optional<std::set<std::string>> anchorRoots_;
  std::unordered_map<std::string, std::set<std::string>> sharingAnchorCache_;
  std::unordered_map<std::string, std::vector<const Provider*>> byAggregate_;
  bool anySharing_ = false;

  // Merge state.
  std::vector<const GroupEntry*> chosen_;
  std::vector<std::tuple<const Provider*, std::string, int64_t>> sums_;
  std::vector<const Provider*> suffixedUsed_;
  std::unordered_set<std::string> seen_;
  CandidateResult out_;
};

const std::set<std::string>& Engine::sharingAnchors(const Provider& p) {
  auto it = sharingAnchorCache_.find(p.uuid);
  if (it != sharingAnchorCache_.end()) return it->second;
  if (byAggregate_.empty()) {
    for (const auto& [uuid, q] : providers_) {
      for (const auto& a : q.aggregates) byAggregate_[a].push_back(&q);
    }
  }
  std::set<std::string> anchors{p.rootUuid};
  for (const auto& a : p.aggregates) {
    for (const Provider* q : byAggregate_[a]) anchors.insert(q->rootUuid);
  }
  return sharingAnchorCache_[p.uuid] = std::move(anchors);
}

std::optional<std::string> Engine::treeRoot(const RequestGroup& g, bool& unknownTree) const {
  if (!g.inTree) return std::nullopt;
  const Provider* p = find(*g.inTree);
  if (!p) {
    unknownTree = true;
    return std::nullopt;
  }
  return p->rootUuid;
}

// A group satisfied by one provider: suffixed groups, or the unsuffixed one in a flat cloud.
ByAnchor Engine::singleProviderGroup(const RequestGroup& g) {
  ByAnchor out;
  bool unknownTree = false;
  auto root = treeRoot(g, unknownTree);
  if (unknownTree) return out;
  auto consider = [&](const Provider& p) {
    if (root && p.rootUuid != *root) return;
    for (const auto& [rc, amount] : g.resources) {
      if (!fits(p, rc, amount)) return;
    }
    if (!termsHold(p.traits, g.traits) || !inAggregates(p, g.memberOf, false)) return;
    GroupEntry e;
    if (!g.resources.empty()) e.allocs.emplace_back(&p, g.resources);
    e.mapped.push_back(&p);
    if (isSharing(p) && !g.resources.empty() && !root) {
      for (const auto& anchor : sharingAnchors(p)) {
        if (anchorAllowed(anchor)) out[anchor].push_back(e);
      }
    } else if (anchorAllowed(p.rootUuid)) {
      out[p.rootUuid].push_back(std::move(e));
    }
  };
  if (!g.resources.empty()) {
    // Walk the rarest class's providers only.
    const std::set<std::string>* smallest = nullptr;
    for (const auto& [rc, amount] : g.resources) {
      const auto* set = model_.providersWithClassUnlocked(rc);
      if (!set) return out;
      if (!smallest || set->size() < smallest->size()) smallest = set;
    }
    for (const auto& uuid : *smallest) consider(*find(uuid));
  } else {
    for (const auto& [uuid, p] : providers_) consider(p);
  }
  return out;
}

// The unsuffixed group when trees or sharing providers exist: each class from any provider of
// the tree (or a sharing provider), traits satisfied by the providers used together.
ByAnchor Engine::treeGroup(const RequestGroup& g) {
  ByAnchor out;
  bool unknownTree = false;
  auto root = treeRoot(g, unknownTree);
  if (unknownTree) return out;
  std::vector<std::string> classes;
  std::vector<std::map<std::string, std::vector<const Provider*>>> options;
  for (const auto& [rc, amount] : g.resources) {
    const auto* set = model_.providersWithClassUnlocked(rc);
    if (!set) return out;
    std::map<std::string, std::vector<const Provider*>> byAnchor;
    for (const auto& uuid : *set) {
      const Provider& p = *find(uuid);
      if (root && p.rootUuid != *root) continue;
      if (!fits(p, rc, amount) || !inAggregates(p, g.memberOf, true)) continue;
      if (isSharing(p) && !root) {
        for (const auto& anchor : sharingAnchors(p)) byAnchor[anchor].push_back(&p);
      } else {
        byAnchor[p.rootUuid].push_back(&p);
      }
    }
    classes.push_back(rc);
    options.push_back(std::move(byAnchor));
  }
  if (options.empty()) return out;
  for (const auto& [anchor, first] : options[0]) {
    if (!anchorAllowed(anchor)) continue;
    std::vector<const std::vector<const Provider*>*> perClass;
    for (const auto& byAnchor : options) {
      auto it = byAnchor.find(anchor);
      if (it == byAnchor.end()) break;
      perClass.push_back(&it->second);
    }
    if (perClass.size() != options.size()) continue;
    std::set<std::string> keys;
    std::vector<size_t> idx(perClass.size(), 0);
    while (true) {
      std::map<const Provider*, ResourceAmounts> allocs;
      std::set<std::string> traits;
      for (size_t c = 0; c < perClass.size(); ++c) {
        const Provider* p = (*perClass[c])[idx[c]];
        allocs[p][classes[c]] = g.resources.at(classes[c]);
        traits.insert(p->traits.begin(), p->traits.end());
      }
      if (termsHold(traits, g.traits)) {
        GroupEntry e;
        std::string key;
        for (auto& [p, amounts] : allocs) {
          e.allocs.emplace_back(p, amounts);
          e.mapped.push_back(p);
          key += p->uuid + ";";
        }
        if (keys.insert(key).second) out[anchor].push_back(std::move(e));
      }
      size_t c = 0;
      while (c < idx.size() && ++idx[c] == perClass[c]->size()) idx[c++] = 0;
      if (c == idx.size()) break;
    }
  }
  return out;
}

bool Engine::isAncestorOrSelf(const Provider* a, const Provider* b) const {
  for (const Provider* p = b; p; p = p->parentUuid.empty() ? nullptr : find(p->parentUuid)) {
    if (p == a) return true;
  }
  return false;
}

bool Engine::sameSubtreeHolds() const {
  for (const auto& suffixes : request_.sameSubtree) {
    std::vector<const Provider*> members;
    for (size_t i = 0; i < chosen_.size(); ++i) {
      const std::string& s = request_.groups[i].suffix;
      if (std::find(suffixes.begin(), suffixes.end(), s) == suffixes.end()) continue;
      members.insert(members.end(), chosen_[i]->mapped.begin(), chosen_[i]->mapped.end());
    }
    bool ok = std::any_of(members.begin(), members.end(), [&](const Provider* top) {
      return std::all_of(members.begin(), members.end(),
                         [&](const Provider* m) { return isAncestorOrSelf(top, m); });
    });
    if (!ok) return false;
  }
  return true;
}

void Engine::emit() {
  if (!sameSubtreeHolds()) return;
  AllocationRequest req;
  for (size_t i = 0; i < chosen_.size(); ++i) {
    for (const auto& [p, amounts] : chosen_[i]->allocs) {
      for (const auto& [rc, n] : amounts) req.allocations[p->uuid][rc] += n;
    }
    auto& mapped = req.mappings[request_.groups[i].suffix];
    for (const Provider* p : chosen_[i]->mapped) mapped.push_back(p->uuid);
  }
  if (!request_.nestedAware && model_.hasTreesUnlocked()) {
    // Before 1.29 a request may not use two providers of one tree.
    std::set<std::string> roots;
    for (const auto& [uuid, amounts] : req.allocations) {
      if (!roots.insert(find(uuid)->rootUuid).second) return;
    }
  }
  std::string key;
  for (const auto& [uuid, amounts] : req.allocations) {
    key += uuid;
    for (const auto& [rc, n] : amounts) key += "," + rc + "=" + std::to_string(n);
    key += ";";
  }
  for (auto& [suffix, uuids] : req.mappings) {
    std::sort(uuids.begin(), uuids.end());
    uuids.erase(std::unique(uuids.begin(), uuids.end()), uuids.end());
    key += "|" + suffix + ":";
    for (const auto& u : uuids) key += u + ",";
  }
  if (seen_.insert(key).second) out_.requests.push_back(std::move(req));
}

void Engine::descend(const std::vector<const std::vector<GroupEntry>*>& options, size_t depth) {
  if (full()) return;
  if (depth == options.size()) {
    emit();
    return;
  }
  bool suffixed = !request_.groups[depth].suffix.empty();
  for (const GroupEntry& e : *options[depth]) {
    if (full()) return;
    if (request_.isolate && suffixed &&
        std::any_of(e.mapped.begin(), e.mapped.end(), [&](const Provider* p) {
          return std::find(suffixedUsed_.begin(), suffixedUsed_.end(), p) != suffixedUsed_.end();
        })) {
      continue;
    }
    // Add this entry's amounts; prune when a summed amount no longer fits.
    size_t mark = sums_.size();
    bool ok = true;
    for (const auto& [p, amounts] : e.allocs) {
      for (const auto& [rc, n] : amounts) {
        int64_t total = n;
        for (const auto& [sp, src, sn] : sums_) {
          if (sp == p && src == rc) total += sn;
        }
        const Inventory& inv = p->inventories.at(rc);
        if (used(*p, rc) + total > inv.capacity() || total > inv.maxUnit) ok = false;
        sums_.emplace_back(p, rc, n);
      }
    }
    if (ok) {
      size_t usedMark = suffixedUsed_.size();
      if (suffixed) suffixedUsed_.insert(suffixedUsed_.end(), e.mapped.begin(), e.mapped.end());
      chosen_.push_back(&e);
      descend(options, depth + 1);
      chosen_.pop_back();
      suffixedUsed_.resize(usedMark);
    }
    sums_.resize(mark);
  }
}

void Engine::merge(const std::vector<ByAnchor>& perGroup) {
  for (const auto& [anchor, entries] : perGroup[0]) {
    std::vector<const std::vector<GroupEntry>*> options{&entries};
    for (size_t i = 1; i < perGroup.size(); ++i) {
      auto it = perGroup[i].find(anchor);
      if (it == perGroup[i].end()) break;
      options.push_back(&it->second);
    }
    if (options.size() != perGroup.size()) continue;
    descend(options, 0);
    if (full()) return;
  }
}

CandidateResult Engine::run() {
  if (!request_.rootRequired.empty()) {
    anchorRoots_.emplace();
    for (const auto& [uuid, p] : providers_) {
      if (p.parentUuid.empty() && termsHold(p.traits, request_.rootRequired)) {
        anchorRoots_->insert(uuid);
      }
    }
  }
  for (const auto& [uuid, p] : providers_) {
    if (isSharing(p)) {
      anySharing_ = true;
      break;
    }
  }
  bool treesOrSharing = model_.hasTreesUnlocked() || anySharing_;
  std::vector<ByAnchor> perGroup;
  for (const auto& g : request_.groups) {
    ByAnchor entries = g.suffix.empty() && treesOrSharing ? treeGroup(g) : singleProviderGroup(g);
    if (entries.empty()) return {};
    perGroup.push_back(std::move(entries));
  }
  if (perGroup.empty()) return {};
  merge(perGroup);
  if (request_.randomize) {
    std::mt19937_64 rng(std::random_device{}());
    std::shuffle(out_.requests.begin(), out_.requests.end(), rng);
    if (request_.limit && out_.requests.size() > *request_.limit) {
      out_.requests.resize(*request_.limit);
    }
  }
  // provider_summaries: whole trees from 1.29, only the providers used before.
  const auto& children = model_.childrenUnlocked();
  std::set<std::string> roots;
  for (const auto& req : out_.requests) {
    for (const auto& [uuid, amounts] : req.allocations) {
      out_.summaryProviders.insert(uuid);
      if (request_.nestedAware) roots.insert(find(uuid)->rootUuid);
    }
    for (const auto& [suffix, uuids] : req.mappings) {
      for (const auto& uuid : uuids) {
        out_.summaryProviders.insert(uuid);
        if (request_.nestedAware) roots.insert(find(uuid)->rootUuid);
      }
    }
  }
  std::vector<std::string> todo(roots.begin(), roots.end());
  while (!todo.empty()) {
    std::string cur = std::move(todo.back());
    todo.pop_back();
    out_.summaryProviders.insert(cur);
    if (auto it = children.find(cur); it != children.end()) {
      todo.insert(todo.end(), it->second.begin(), it->second.end());
    }
  }
  return std::move(out_);
}

}  // namespace

CandidateResult findCandidates(const PlacementModel& model, const CandidateRequest& request) {
  return Engine(model, request).run();
}

}  // namespace bwfloor::placement
