#!/usr/bin/python3
"""Placement 8.0's real policy (oslo_policy + placement.policies, Debian's python3 packages) for
the personas of policy_test.cpp / api_policy_test.cpp: one line per persona and rule class with
the letters for enforce_scope / enforce_new_defaults = FF, FT, TF, TT (A allowed, D denied,
S InvalidScope). The C++ tables must say the same; run: /usr/bin/python3 THIS_FILE."""
import warnings

from oslo_config import cfg
from oslo_policy import opts, policy
from placement import policies

warnings.filterwarnings('ignore')

PERSONAS = {
    'system admin': dict(roles=['admin', 'member', 'reader'], system_scope='all'),
    'system reader': dict(roles=['reader'], system_scope='all'),
    'project admin': dict(roles=['admin', 'member', 'reader'], project_id='p1'),
    'project member': dict(roles=['member', 'reader'], project_id='p1'),
    'project reader': dict(roles=['reader'], project_id='p1'),
}


def enforcer(scope, new):
    conf = cfg.ConfigOpts()
    opts._register(conf)
    conf([], project='bwfloor-policy-check')
    conf.set_override('enforce_scope', scope, 'oslo_policy')
    conf.set_override('enforce_new_defaults', new, 'oslo_policy')
    e = policy.Enforcer(conf, policy_file='/nonexistent/policy.yaml')
    e.suppress_default_change_warnings = True
    e.register_defaults(policies.list_rules())
    e.load_rules()
    return e


def main():
    enforcers = [enforcer(s, n) for s in (False, True) for n in (False, True)]
    rules = [r for r in policies.list_rules() if r.name.startswith('placement:')]
    for name, creds in PERSONAS.items():
        creds = dict(creds, system=creds.get('system_scope'))
        rows = {}
        for rule in rules:
            targets = [('own', 'p1'), ('other', 'p2')] if rule.name == 'placement:usages' \
                else [(rule.check_str, 'p1')]
            for cls, project in targets:
                letters = ''
                for e in enforcers:
                    try:
                        letters += 'A' if e.enforce(rule.name, {'project_id': project}, creds,
                                                    do_raise=True) else 'D'
                    except policy.InvalidScope:
                        letters += 'S'
                    except policy.PolicyNotAuthorized:
                        letters += 'D'
                rows.setdefault(cls, set()).add(letters)
        print(name, ' '.join('%s=%s' % (k, '/'.join(sorted(v))) for k, v in sorted(rows.items())))


main()
